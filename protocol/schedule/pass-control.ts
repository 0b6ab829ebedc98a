/**
 * The per-pass control step: before each forward pass the gateway tells the engine whether
 * another pass follows (rows and start position) or the session ends. The dealer takes the
 * step number too, so all three schedules stay aligned.
 */
import { nextStep, type PartyContext } from '../session/party-context.js';
import { MessageKind } from '../wire/frame.js';

export type PassCommand = { kind: 'pass'; rows: number; start: number } | { kind: 'end' };

export async function passControl(ctx: PartyContext, command?: PassCommand): Promise<PassCommand> {
  const step = nextStep(ctx);
  if (ctx.role === 'dealer') return command ?? { kind: 'end' };
  if (ctx.role === 'gateway') {
    if (!command) throw new Error('passControl: the gateway must give a command');
    const words = command.kind === 'pass' ? [1, command.rows, command.start] : [0, 0, 0];
    ctx.net.send('engine', MessageKind.StepBegin, step, [Uint32Array.from(words)]);
    if (command.kind === 'end') await ctx.net.flush();
    return command;
  }
  const [words] = await ctx.net.receive('gateway', MessageKind.StepBegin, step);
  if (!(words instanceof Uint32Array) || words.length !== 3) throw new Error('pass control: malformed command');
  return words[0] === 1 ? { kind: 'pass', rows: words[1]!, start: words[2]! } : { kind: 'end' };
}
