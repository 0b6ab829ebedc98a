/**
 * The one module that writes server-sent events: JSON `data:` frames, `: keep-alive` comments
 * while nothing else is sent (a private prefill can take a while), `data: [DONE]`, and the
 * single `data: {"error":{...}}` frame that ends a stream which fails after its headers went
 * out. Built on hono's streamSSE.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { errorEnvelope, toGatewayError, type GatewayError } from '../errors/index.js';

export interface SseChannel {
  /** One `data: <json>` frame. */
  send(data: unknown): Promise<void>;
  /** The closing `data: [DONE]` frame. */
  done(): Promise<void>;
  /** True once the client went away; producers should stop. */
  readonly closed: boolean;
}

export interface SseOptions {
  /** Send `: keep-alive` when nothing was written for this long. */
  keepAliveMs: number;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /** Decides whether an error thrown by the producer is the client leaving (nothing to send). */
  isClientGone?: (error: unknown) => boolean;
  /** Runs once the stream is over, whatever happened (release resources here). */
  onClose?: () => void;
  /** Logs errors sent as the error frame. */
  onError?: (error: GatewayError) => void;
}

export function sseResponse(c: Context, options: SseOptions, produce: (channel: SseChannel) => Promise<void>): Response {
  return streamSSE(c, async (stream) => {
    let wrote = false;
    const channel: SseChannel = {
      send: async (data) => {
        wrote = true;
        await stream.writeSSE({ data: JSON.stringify(data) });
      },
      done: async () => {
        wrote = true;
        await stream.writeSSE({ data: '[DONE]' });
      },
      get closed() {
        return stream.aborted || options.signal.aborted;
      },
    };
    const keepAlive = setInterval(() => {
      if (!wrote && !channel.closed) void stream.write(': keep-alive\n\n');
      wrote = false;
    }, options.keepAliveMs);
    try {
      await produce(channel);
    } catch (error) {
      if (!channel.closed && !(options.isClientGone?.(error) ?? false)) {
        const gatewayError = toGatewayError(error);
        options.onError?.(gatewayError);
        await stream.writeSSE({ data: JSON.stringify(errorEnvelope(gatewayError)) });
      }
    } finally {
      clearInterval(keepAlive);
      options.onClose?.();
    }
  });
}
