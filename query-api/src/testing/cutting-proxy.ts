import net from 'node:net';

export interface CuttingProxy {
  port: number;
  /** Resolves once the connections were cut (after `cutAfterBytes` from clients). */
  cut: Promise<void>;
  /** Listens again on the same port, forwarding without cutting. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback to `targetPort` that, once clients have sent `cutAfterBytes`, drops every
 * connection and stops listening (new connections are refused) until `heal()`: a server that goes away
 * in the middle of an upload.
 */
export async function startCuttingProxy(targetPort: number, cutAfterBytes: number): Promise<CuttingProxy> {
  const sockets = new Set<net.Socket>();
  let sent = 0;
  let cutting = true;
  let markCut: () => void = () => undefined;
  const cut = new Promise<void>((resolve) => {
    markCut = resolve;
  });
  let server: net.Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.on('data', (chunk) => {
          sent += chunk.length;
          if (cutting && sent > cutAfterBytes) {
            cutting = false;
            server.close();
            for (const s of sockets) s.destroy();
            markCut();
            return;
          }
          upstream.write(chunk);
        });
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  return {
    port,
    cut,
    heal: async () => {
      await listen(port);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}
