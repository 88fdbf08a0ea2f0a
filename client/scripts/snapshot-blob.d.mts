// Types of snapshot-blob.mjs for the TypeScript tests that import it.
export declare const SNAPSHOT_V8_FLAGS: string[];
export declare function snapshotCacheDir(dist: string, env?: NodeJS.ProcessEnv): string;
export declare function makeSnapshotBlob(bundle: string, dir: string): string | undefined;
