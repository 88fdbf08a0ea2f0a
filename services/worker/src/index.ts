export { startWorker, type WorkerOptions, type RunningWorker } from './worker.ts';
export { COMPILES_COUNTER } from './stats.ts';
export { compileProgram, startsWithKernelHeader, type CompileSettings } from './compile/compile-program.ts';
export { cleanDiagnostics } from './compile/diagnostics.ts';
export { KernelSetStore, type KernelSet } from './kernel-set/kernel-set.ts';
export { WarmPool } from './sandbox/warm-pool.ts';
export { hardenedContainerOptions, DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox/hardening.ts';
export { readObject, createJobDir } from './sandbox/job-dir.ts';
export { startIngestWorker, type IngestWorkerOptions, type RunningIngestWorker } from './ingest/ingest-worker.ts';
