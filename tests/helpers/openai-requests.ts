/** Plain-fetch OpenAI requests for the network tests (streams parsed into text and an error, if any). */
export interface CompletionResult {
  text: string;
  finishReason: string | null;
  completionTokens: number;
  /** The `permllm` extension of the final usage chunk / response, when present. */
  stats?: Record<string, number>;
}

export async function complete(baseURL: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<CompletionResult> {
  const response = await fetch(`${baseURL}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', temperature: 0, ...body }),
    ...(signal ? { signal } : {}),
  });
  const json = (await response.json()) as {
    choices?: { text: string; finish_reason: string | null }[];
    usage?: { completion_tokens: number };
    permllm?: Record<string, number>;
    error?: { message: string };
  };
  if (!response.ok || !json.choices) throw new Error(`HTTP ${response.status}: ${json.error?.message ?? JSON.stringify(json)}`);
  const result: CompletionResult = { text: json.choices[0]!.text, finishReason: json.choices[0]!.finish_reason, completionTokens: json.usage?.completion_tokens ?? 0 };
  if (json.permllm) result.stats = json.permllm;
  return result;
}

export interface StreamResult {
  text: string;
  /** The in-stream error message, if the stream carried one. */
  error?: string;
  chunks: number;
}

/**
 * Streams a completion; `onChunk` sees each text delta (e.g. to kill a process after the first
 * token). Ends when the server ends the stream.
 */
export async function streamCompletion(baseURL: string, body: Record<string, unknown>, onChunk?: (text: string, index: number) => void | Promise<void>): Promise<StreamResult> {
  const response = await fetch(`${baseURL}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', temperature: 0, ...body, stream: true }),
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const result: StreamResult = { text: '', chunks: 0 };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (!data || data === '[DONE]') continue;
      const json = JSON.parse(data) as { choices?: { text?: string }[]; error?: { message: string } };
      if (json.error) {
        result.error = json.error.message;
        continue;
      }
      const piece = json.choices?.[0]?.text ?? '';
      if (piece) {
        result.text += piece;
        await onChunk?.(piece, result.chunks);
        result.chunks++;
      }
    }
  }
  return result;
}
