/**
 * Synthetic models with real chat templates and tokenizers (random weights), for the tests of
 * what agents need: structured outputs, tool calls, history. With constrained decoding even
 * random weights must give schema-valid JSON, which is what these tests check.
 * - `llama3Chat`: Llama 3's template and special tokens over a 32,000-token vocabulary
 *   (the derived llama3-32k tokenizer), one tiny layer: small enough for the private system.
 * - `qwenChat`: Qwen3's template (hermes `<tool_call>` syntax) and full 151,669-token tokenizer.
 * - `qwen32kChat`: Qwen3's template and special tokens over the derived 32,000-token qwen3-32k
 *   tokenizer, one tiny layer: the Qwen syntax on the private system.
 * Served by the plaintext backend, or by the networked private system when the api-private
 * project runs (PERMLLM_API_TEST_BACKEND set).
 */
import type { GenerationBackend } from '../../../gateway/pipeline/generation-backend.js';
import { PlaintextBackend } from '../../../gateway/pipeline/plaintext-backend.js';
import { ensureSyntheticModel } from '../../../model/synthetic/index.js';

export const privateRun = process.env['PERMLLM_API_TEST_BACKEND'] !== undefined;

export function llama3ChatDir(): Promise<string> {
  return ensureSyntheticModel(
    { name: 'llama3-32k-chat-tiny', spec: { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4, nKvHeads: 2, tokenizer: 'llama3-32k', tiedEmbeddings: true, maxSeqLen: 1024 } },
    1,
  );
}

/** Qwen3's template, special tokens and tool syntax over a 32,000-token vocabulary (the derived qwen3-32k tokenizer): small enough for the private system. */
export function qwen32kChatDir(): Promise<string> {
  return ensureSyntheticModel(
    { name: 'qwen3-32k-chat-tiny', spec: { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4, nKvHeads: 2, tokenizer: 'qwen3-32k', tiedEmbeddings: true, maxSeqLen: 1024 } },
    1,
  );
}

export function qwenChatDir(): Promise<string> {
  return ensureSyntheticModel('qwen2-like-tiny', 1);
}

const plaintext = new Map<string, Promise<PlaintextBackend>>();

/** The backend for a model folder: private over the network in the api-private project, plaintext otherwise. */
export async function chatBackend(dir: string, options: { plaintextOnly?: boolean } = {}): Promise<GenerationBackend> {
  if (privateRun && !options.plaintextOnly) {
    const { createNetworkedBackend } = await import('../../helpers/networked-backend.js');
    return createNetworkedBackend(dir);
  }
  let backend = plaintext.get(dir);
  if (!backend) {
    backend = PlaintextBackend.load(dir);
    plaintext.set(dir, backend);
  }
  return backend;
}
