/**
 * Whether this worker's Docker engine answers. A worker whose engine is gone takes no jobs: it
 * pauses, probes the engine until it answers again, then resumes. Jobs caught by the outage go back
 * to the queue (delayed, not failed), so a compile accepted during an outage runs once it is over.
 */
import type Dockerode from 'dockerode';

export interface DockerHealthOptions {
  docker: Dockerode;
  /** Called once per change (down → up, up → down). */
  onChange(ok: boolean): void;
  probeMs?: number;
  pingTimeoutMs?: number;
}

export class DockerHealth {
  private state = true;
  private probe: NodeJS.Timeout | undefined;

  constructor(private readonly options: DockerHealthOptions) {}

  get ok(): boolean {
    return this.state;
  }

  /** Pings the engine now and records the answer. */
  async check(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.options.docker.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), this.options.pingTimeoutMs ?? 3000))),
      ]);
      this.set(true);
    } catch {
      this.set(false);
    } finally {
      clearTimeout(timer);
    }
    return this.state;
  }

  stop(): void {
    clearInterval(this.probe);
    this.probe = undefined;
  }

  private set(ok: boolean): void {
    if (ok === this.state) return;
    this.state = ok;
    if (!ok && !this.probe) {
      this.probe = setInterval(() => void this.check(), this.options.probeMs ?? 500);
      this.probe.unref();
    } else if (ok) {
      this.stop();
    }
    this.options.onChange(ok);
  }
}
