/**
 * A created container's output, attached before it starts so no byte is missed: stdout and stderr
 * demultiplexed into the given sinks, and `ended` once the engine closes the stream (the process
 * has exited). The stream's own errors end it too; the exit status comes from `container.wait()`.
 */
import type { Duplex, Writable } from 'node:stream';
import type Dockerode from 'dockerode';

export interface AttachedOutput {
  /** The hijacked stream: `end()` it to close the process's stdin. */
  stream: Duplex;
  ended: Promise<void>;
}

export async function attachOutput(docker: Dockerode, container: Dockerode.Container, stdout: Writable, stderr: Writable): Promise<AttachedOutput> {
  const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
  docker.modem.demuxStream(stream, stdout, stderr);
  stream.on('error', () => {});
  const ended = new Promise<void>((done) => {
    stream.once('end', done);
    stream.once('close', done);
  });
  return { stream, ended };
}
