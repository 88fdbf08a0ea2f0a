/**
 * HTTP spoken by hand over a socket, the way an attacker (or a careless client) does: a head, then a
 * body dripped a byte at a time or never sent. Resolves when the server closes the connection, with
 * what it answered and how long it held the connection.
 */
import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent (status line, headers, body). */
  answer: string;
  /** Milliseconds from connect until the server closed. */
  closedAfterMs: number;
  /** Body bytes this side managed to send. */
  sent: number;
  /** How the socket ended: 'end' (the server closed it cleanly) or the error code (ECONNRESET, EPIPE). */
  ending: string;
}

export interface RawRequestOptions {
  port: number;
  host?: string;
  /** Request head without the final blank line, e.g. 'POST /v1/compile HTTP/1.1\r\nContent-Length: 10'. */
  head: string;
  /** Sent right after the head. */
  body?: Buffer;
  /** Then one byte every dripMs, until the server closes or giveUpMs. */
  dripMs?: number;
  /** Send the head one byte at a time every dripMs instead (a slow-headers client). */
  dripHead?: boolean;
  giveUpMs: number;
}

export function rawRequest(options: RawRequestOptions): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ port: options.port, host: options.host ?? '127.0.0.1' });
    const chunks: Buffer[] = [];
    let sent = 0;
    let ending = 'end';
    let drip: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${options.giveUpMs} ms (answer so far: ${JSON.stringify(Buffer.concat(chunks).toString().slice(0, 200))})`));
    }, options.giveUpMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      ending = err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(drip);
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - started, sent, ending });
    });
    socket.on('connect', () => {
      const head = Buffer.from(`${options.head}\r\n\r\n`, 'latin1');
      if (options.dripHead) {
        let at = 0;
        drip = setInterval(() => {
          if (at < head.length && socket.writable) socket.write(head.subarray(at, ++at));
        }, options.dripMs ?? 1000);
        return;
      }
      socket.write(head);
      if (options.body) {
        socket.write(options.body);
        sent += options.body.length;
      }
      if (options.dripMs) {
        drip = setInterval(() => {
          if (!socket.writable) return;
          socket.write('x');
          sent++;
        }, options.dripMs);
      }
    });
  });
}

/** The status code and parsed JSON body of a raw HTTP/1.1 answer (Content-Length framed). */
export function parseAnswer(answer: string): { status: number; headers: Record<string, string>; json: unknown } {
  const [head = '', ...rest] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const body = rest.join('\r\n\r\n');
  let json: unknown = null;
  try {
    json = JSON.parse(headers['content-length'] ? body.slice(0, Number(headers['content-length'])) : body);
  } catch {
    json = null;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, json };
}
