/**
 * A unix socket in front of the real Docker engine, which the test can close and reopen to play
 * "the engine is gone" for the processes pointed at it (DOCKER_HOST=unix://<path>) without
 * touching the engine that other tests on the machine share.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class DockerProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly engine = '/var/run/docker.sock',
  ) {}

  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  get open(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    rmSync(this.path, { force: true });
    // Half-open both ways: a client that closes its stdin (attach, then end) still reads the output.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ path: this.engine, allowHalfOpen: true });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection (attach streams included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    rmSync(this.path, { force: true });
  }
}
