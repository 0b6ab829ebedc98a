/**
 * Tool-call parsing of streamed text: content passes at once, a partial `<tool_call>` is held
 * until it is clearly a call or text, a finished call becomes one event, malformed calls stay
 * content, and `json`-syntax replies are calls only when the whole reply is one.
 */
import { describe, expect, it } from 'vitest';
import { ToolSyntax } from '../../gateway/chat/index.js';
import { ToolCallStream, type ToolStreamEvent } from '../../gateway/api/tool-call-stream.js';

const hermes = new ToolSyntax('{% if tools %}<tool_call>{% endif %}');
const json = new ToolSyntax('{{ messages }}');

function run(syntax: ToolSyntax, pieces: string[]): ToolStreamEvent[][] {
  const stream = new ToolCallStream(syntax);
  return [...pieces.map((p) => stream.push(p)), stream.flush()];
}

describe('ToolCallStream', () => {
  it('hermes: text, then a call split across pieces', () => {
    const steps = run(hermes, ['Sure. <tool', '_call>\n{"name":"f","argu', 'ments":{"a":1}}\n</tool_call>']);
    expect(steps[0]).toEqual([{ type: 'content', text: 'Sure. ' }]);
    expect(steps[1]).toEqual([]);
    expect(steps[2]).toEqual([{ type: 'call', call: { name: 'f', arguments: '{"a":1}' } }]);
    expect(steps[3]).toEqual([]);
  });

  it('hermes: a "<tool" that is not a call is released; a malformed call stays content', () => {
    expect(run(hermes, ['a <tool', 's> b']).flat()).toEqual([{ type: 'content', text: 'a ' }, { type: 'content', text: '<tools> b' }]);
    expect(run(hermes, ['<tool_call>not json</tool_call>']).flat()).toEqual([{ type: 'content', text: '<tool_call>not json</tool_call>' }]);
  });

  it('json syntax: a whole-reply call, or plain text streamed at once', () => {
    expect(run(json, ['{"name":"f",', '"parameters":{}}']).flat()).toEqual([{ type: 'call', call: { name: 'f', arguments: '{}' } }]);
    expect(run(json, ['Hello', ' {x}'])[0]).toEqual([{ type: 'content', text: 'Hello' }]);
    expect(run(json, ['{"not":"a call"}']).flat()).toEqual([{ type: 'content', text: '{"not":"a call"}' }]);
  });
});
