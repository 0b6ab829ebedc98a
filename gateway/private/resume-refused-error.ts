/**
 * A resumed session (conversation reuse) that the engine or the dealer cannot continue: one of
 * them no longer holds the kept state (expired, evicted, restarted) or never kept it. Thrown by
 * privateGenerate right after the handshake, before anything that depends on the prompt is sent;
 * the caller then runs the request as a fresh session.
 */
export class ResumeRefusedError extends Error {
  override readonly name = 'ResumeRefusedError';
  constructor(readonly holds: { engine: boolean; dealer: boolean }) {
    const missing = (['engine', 'dealer'] as const).filter((p) => !holds[p]);
    super(`the ${missing.join(' and the ')} no longer hold${missing.length === 1 ? 's' : ''} the conversation state`);
  }
}
