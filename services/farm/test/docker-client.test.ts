import { describe, expect, it } from 'vitest';
import { dockerClient } from '../src/docker-client.ts';

describe('docker client from DOCKER_HOST', () => {
  it('talks to the local engine by its unix socket', async () => {
    const docker = dockerClient('unix:///var/run/docker.sock');
    expect(String(await docker.ping())).toBe('OK');
  });

  it('maps tcp:// and https:// to host and port', () => {
    const tcp = dockerClient('tcp://10.0.0.5:2375') as unknown as { modem: { host: string; port: number; protocol: string } };
    expect(tcp.modem).toMatchObject({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    const tls = dockerClient('https://engine.example') as unknown as { modem: { host: string; port: number; protocol: string } };
    expect(tls.modem).toMatchObject({ host: 'engine.example', port: 2376, protocol: 'https' });
  });
});
