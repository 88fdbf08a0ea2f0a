{
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
        "src/object-setup.cc",
        "src/global-data.cc",
        "src/kernel-probe.cc",
        "src/program-attach.cc",
        "src/fd-attach.cc",
        "src/packet-socket.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
