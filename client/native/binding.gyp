{
  "variables": {
    # A directory holding include/bpf/*.h and lib/libbpf.a (scripts/libbpf.sh prints one): libbpf
    # is then linked into the addon with its symbols hidden, and the addon needs only glibc, libelf
    # and zlib at run time. Empty: the system's libbpf (libbpf-dev) is linked dynamically, as a
    # build from source on a platform without a prebuilt addon does.
    "libbpf_static%": "",
    # Extra library directory for a cross build (the arm64 libelf and zlib of scripts/libbpf.sh).
    "sysroot_libdir%": ""
  },
  "targets": [
    {
      "target_name": "lbc_native",
      "sources": [
        "src/addon.cc",
        "src/libbpf-log.cc",
        "src/errno-error.cc",
        "src/bpf-object.cc",
        "src/bpf-link.cc",
        "src/map-ops.cc",
        "src/batch-poller.cc",
        "src/ring-buffer.cc",
        "src/ring-view.cc",
        "src/perf-buffer.cc",
        "src/perf-event.cc",
        "src/kernel-inventory.cc",
        "src/kernel-objects.cc",
        "src/object-setup.cc",
        "src/global-data.cc",
        "src/kernel-probe.cc",
        "src/trampoline-probe.cc",
        "src/program-attach.cc",
        "src/fd-attach.cc",
        "src/packet-socket.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["libbpf_static==''", {
          "libraries": ["-lbpf", "-lelf", "-lz"]
        }, {
          "include_dirs": ["<(libbpf_static)/include"],
          "libraries": ["<(libbpf_static)/lib/libbpf.a", "-lelf", "-lz"],
          "sources": ["src/glibcxx-compat.cc"],
          # --exclude-libs keeps libbpf's symbols out of the addon's dynamic symbol table, so they
          # never bind to another libbpf in the process; -fvisibility=hidden does so for ours.
          "cflags_cc": ["-fvisibility=hidden"],
          "ldflags": ["-Wl,--exclude-libs,ALL", "-Wl,--as-needed"]
        }],
        ["sysroot_libdir!=''", {
          "ldflags": ["-L<(sysroot_libdir)", "-Wl,-rpath-link,<(sysroot_libdir)"]
        }]
      ]
    }
  ]
}
