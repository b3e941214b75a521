// CPU time, which a busy shared machine does not distort the way it distorts wall time:
// what the server's threads and this process (the client) spent while some load ran.
import type { ServerProcess } from './processes.js';

/** CPU time spent while `work` ran: by the server's main thread, its other threads, and this process (the client). */
export interface CpuSpent {
  serverMainMs: number;
  serverOtherMs: number;
  clientMs: number;
}

export async function withCpu<T>(server: ServerProcess, work: () => Promise<T>): Promise<[T, CpuSpent]> {
  const client = process.cpuUsage();
  const before = server.cpuMs();
  const result = await work();
  const after = server.cpuMs();
  const used = process.cpuUsage(client);
  return [
    result,
    {
      serverMainMs: after.mainThread - before.mainThread,
      serverOtherMs: after.otherThreads - before.otherThreads,
      clientMs: (used.user + used.system) / 1000,
    },
  ];
}

export function sumCpu(spent: CpuSpent[]): CpuSpent {
  return spent.reduce(
    (sum, s) => ({
      serverMainMs: sum.serverMainMs + s.serverMainMs,
      serverOtherMs: sum.serverOtherMs + s.serverOtherMs,
      clientMs: sum.clientMs + s.clientMs,
    }),
    { serverMainMs: 0, serverOtherMs: 0, clientMs: 0 },
  );
}
