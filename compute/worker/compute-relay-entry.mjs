// @ts-check
// Entry of a compute worker's relay thread (compute/worker/worker-pool-backend.ts starts it): it
// starts the compute worker (./compute-worker-entry.mjs) as its own child and passes every message
// between the two, transferring each message's buffers again (no copy).
//
// Why a thread in between (issue 15: heartbeats within 100 ms): the compute worker runs at nice 19
// (./thread-priority.ts). Node's postMessage takes the receiving port's mutex and wakes the
// receiver (an eventfd write) while holding it. When the receiver was the party's main thread
// (nice 0), the kernel ran the woken main thread at once, preempting the worker with the mutex
// still held; the main thread then blocked on that mutex in MessagePort::OnMessage until the
// nice-19 worker got a CPU again. On a loaded machine that was 50-190 ms of the event loop asleep
// (seen with gdb on the dealer: futex wait in node::worker::MessagePort::OnMessage). The relay runs
// at the main thread's priority and does nothing but forward, so a mutex the main thread takes is
// only ever held by a thread of its own priority; the inversion, if any, stalls the relay alone.
//
// workerData: { entry: URL string of the compute worker's entry, name, computeData: its workerData }.
// The first message to the parent is { relayThread: <kernel thread id or null> } (for tests).
import { readlinkSync } from 'node:fs';
import { parentPort, Worker, workerData } from 'node:worker_threads';

if (!parentPort) throw new Error('compute-relay-entry.mjs runs as a worker thread');
const toParent = parentPort;
const { entry, name, computeData } = workerData;

/**
 * Every distinct ArrayBuffer under a message (typed arrays in objects and arrays), to transfer.
 * @param {unknown} value
 * @param {Set<ArrayBuffer>} found
 * @returns {Set<ArrayBuffer>}
 */
function buffersOf(value, found = new Set(), depth = 0) {
  if (depth > 8 || value === null || typeof value !== 'object') return found;
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
    return found;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) buffersOf(v, found, depth + 1);
  return found;
}

/** @returns {number | null} */
function threadId() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
}

const compute = new Worker(new URL(entry), { workerData: computeData, execArgv: [], name });
toParent.postMessage({ relayThread: threadId() });
toParent.on('message', (message) => compute.postMessage(message, [...buffersOf(message)]));
compute.on('message', (message) => toParent.postMessage(message, [...buffersOf(message)]));
// A failed compute worker fails the relay with the same error; its exit ends the relay with its code.
compute.on('error', (error) => {
  throw error;
});
compute.on('exit', (code) => process.exit(code));
