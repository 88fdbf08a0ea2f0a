-- lbc verify's verdicts: will this object load and attach on that kernel? Keyed by what decides it:
-- the object, the kernel (its BTF), the lab that ran the guest (runner and userland) and the setup
-- and workload applied (setup_sha256: verdictSetupHash). The verdict is the KernelVerdict's JSON
-- without its kernel (answered from the kernel row) and cached flag.
CREATE TABLE verdicts (
  object_sha256 TEXT NOT NULL,
  btf_sha256 TEXT NOT NULL,
  lab_version TEXT NOT NULL,
  setup_sha256 TEXT NOT NULL,
  verdict TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (object_sha256, btf_sha256, lab_version, setup_sha256)
);
