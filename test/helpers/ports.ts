/** A TCP port free on the loopback now (the kernel picks it), for tests that start real servers. */
import * as net from "node:net";

export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
