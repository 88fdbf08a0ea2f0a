/**
 * The Docker engine client from DOCKER_HOST (unix:///path, tcp://host:port, https://host:port);
 * unset means dockerode's default, /var/run/docker.sock.
 */
import Dockerode from 'dockerode';

export function dockerClient(dockerHost: string | undefined): Dockerode {
  if (!dockerHost) return new Dockerode();
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return new Dockerode({ socketPath: url.pathname });
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return new Dockerode({ host: url.hostname, port: Number(url.port) || (protocol === 'https' ? 2376 : 2375), protocol });
}
