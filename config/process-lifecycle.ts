/**
 * How a server command waits to be stopped: SIGINT, SIGTERM, or (when started by `permllm
 * start` or a test harness with an IPC channel) its parent going away, so that no role process
 * outlives the command that started it.
 */
export interface StopSignal {
  /** Aborts when the process is asked to stop. */
  signal: AbortSignal;
  /** Resolves with what asked it to stop. */
  stopped: Promise<string>;
}

export function stopSignal(): StopSignal {
  const controller = new AbortController();
  const stopped = new Promise<string>((resolve) => {
    const stop = (why: string) => {
      if (controller.signal.aborted) return;
      controller.abort(new Error(`stopped by ${why}`));
      resolve(why);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (process.send !== undefined) {
      process.once('disconnect', () => stop('the parent process exiting'));
      // The channel must not keep the process alive by itself (e.g. after a start-up error).
      process.channel?.unref();
    }
  });
  return { signal: controller.signal, stopped };
}

/** Exits even if some library keeps a handle open, once `ms` have passed after shutdown. */
export function exitSoon(code: number, ms = 2000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), ms).unref();
}
