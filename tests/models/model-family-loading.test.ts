/**
 * Loading the new families: what the config parser derives from each family's fields, and the
 * checkpoints it must refuse (tensors the architecture does not use, missing ones, a dtype that
 * is not the declared one, layouts it cannot represent), each with a ModelLoadError naming them.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHuggingFaceConfig } from '../../model/huggingface/huggingface-config.js';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import { ModelLoadError } from '../../model/model-errors.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import {
  buildCheckpoint,
  GEMMA2_CONFIG,
  GEMMA3_CONFIG,
  GPT_OSS_CONFIG,
  LLAMA32_CONFIG,
  PHI3_CONFIG,
  QWEN3_CONFIG,
  QWEN3_MOE_CONFIG,
  packExpertsAsMxfp4,
  writeCheckpoint,
  type HfCheckpoint,
  type HfConfig,
} from '../helpers/hf-family-checkpoints.js';
import { scratchDir, stories260KDir } from './model-dirs.js';

let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('family-loading');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function loadError(name: string, ck: HfCheckpoint): Promise<ModelLoadError> {
  const dir = await writeCheckpoint(path.join(work, name), ck);
  const error = await loadHuggingFaceModel(dir, { tokenizer }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

const parse = (config: HfConfig) => parseHuggingFaceConfig(config, 'config.json');

describe('checkpoints that do not match their config', () => {
  it('Qwen3 weights under a Qwen2 config: refused, naming the q/k norm tensors', async () => {
    const ck = buildCheckpoint(QWEN3_CONFIG, 'qwen3-as-qwen2');
    ck.config = { ...QWEN3_CONFIG, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' };
    const error = await loadError('qwen3-as-qwen2', ck);
    expect(error.file).toMatch(/model\.safetensors$/);
    expect(error.problem).toMatch(/^tensors Qwen2ForCausalLM does not use: /);
    for (const l of [0, 1]) for (const n of ['q_norm', 'k_norm']) expect(error.problem).toContain(`model.layers.${l}.self_attn.${n}.weight`);
  });

  it('a Qwen3 config over Qwen2-style weights: the missing q_norm is named', async () => {
    const ck = buildCheckpoint(QWEN3_CONFIG, 'qwen3-without-norms');
    for (const name of [...ck.tensors.keys()]) if (/[qk]_norm/.test(name)) ck.tensors.delete(name);
    const error = await loadError('qwen3-without-norms', ck);
    expect(error.problem).toBe('tensor model.layers.0.self_attn.q_norm.weight is missing');
  });

  it('Phi-3 weights under a Llama config: the fused tensors are missing by their Llama names', async () => {
    const ck = buildCheckpoint(PHI3_CONFIG, 'phi3-as-llama');
    ck.config = { ...PHI3_CONFIG, architectures: ['LlamaForCausalLM'], model_type: 'llama' };
    const error = await loadError('phi3-as-llama', ck);
    expect(error.problem).toBe('tensor model.layers.0.self_attn.q_proj.weight is missing');
  });

  it('float16 checkpoints load as f16', async () => {
    const ck = buildCheckpoint({ ...QWEN3_CONFIG, torch_dtype: 'float16' }, 'qwen3-f16');
    const model = await loadHuggingFaceModel(await writeCheckpoint(path.join(work, 'qwen3-f16'), ck), { tokenizer });
    expect(model.source.dtype).toBe('f16');
    expect(Array.from(model.weights.layers[1]!.wv.subarray(0, 4))).toEqual(Array.from(ck.tensors.get('model.layers.1.self_attn.v_proj.weight')!.data.subarray(0, 4)));
  });

  it('gpt-oss MXFP4 experts: scales of the wrong shape are named', async () => {
    const ck = packExpertsAsMxfp4(buildCheckpoint(GPT_OSS_CONFIG, 'gpt-oss-bad'), 'gpt-oss-bad');
    const parts = ck.packed!.get('model.layers.0.mlp.experts.down_proj')!;
    parts[1] = { ...parts[1]!, shape: [8, 64, 3], bytes: new Uint8Array(8 * 64 * 3).fill(127) }; // scales of 3 groups for 2
    const error = await loadError('gpt-oss-bad-scales', ck);
    expect(error.problem).toBe('tensor model.layers.0.mlp.experts.down_proj_scales has shape [8, 64, 3], expected [8, 64, 2]');
  });

  it('stored dtype differing from torch_dtype', async () => {
    const ck = buildCheckpoint({ ...QWEN3_CONFIG, torch_dtype: 'float32' }, 'qwen3-dtype');
    const dir = await writeCheckpoint(path.join(work, 'qwen3-dtype'), ck);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...QWEN3_CONFIG, torch_dtype: 'bfloat16' }));
    const error = await loadHuggingFaceModel(dir, { tokenizer }).catch((e: unknown) => e as ModelLoadError);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).problem).toBe('torch_dtype says bf16 but the tensors are stored as f32 (e.g. model.embed_tokens.weight)');
  });
});

describe('what the parser derives from each family', () => {
  it('Llama 3.2: the llama3 scaling block', () => {
    expect(parse(LLAMA32_CONFIG).config.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  });

  it('gpt-oss-style yarn: attention factor 0.1·ln(32) + 1, truncate false', () => {
    const rs = parse({ ...LLAMA32_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 32.0, beta_fast: 32.0, beta_slow: 1.0, original_max_position_embeddings: 4096, truncate: false } }).config.ropeScaling;
    expect(rs).toEqual({ type: 'yarn', factor: 32, originalMaxPositions: 4096, betaFast: 32, betaSlow: 1, attentionFactor: 0.1 * Math.log(32) + 1, truncate: false });
  });

  it('dynamic: the context grows to factor × the original length', () => {
    const { config } = parse({ ...LLAMA32_CONFIG, max_position_embeddings: 2048, rope_scaling: { type: 'dynamic', factor: 2.0 } });
    expect(config.ropeScaling).toEqual({ type: 'dynamic', factor: 2, originalMaxPositions: 2048 });
    expect(config.maxSeqLen).toBe(4096);
  });

  it('Phi-3: the window on every layer limits the context (2047)', () => {
    const parsed = parse(PHI3_CONFIG);
    expect(parsed.config.maxSeqLen).toBe(2047);
    expect(parsed.layout.fusedProjections).toBe(true);
    expect(parsed.config.variant).toBeUndefined();
  });

  it('Gemma 2: √hidden scale, 1/√query_pre_attn_scalar, both soft-caps, windows on even layers, tied by default', () => {
    const { config } = parse({ ...GEMMA2_CONFIG, hidden_size: 2304, torch_dtype: 'bfloat16' });
    expect(config.tiedEmbeddings).toBe(true);
    expect(config.variant).toEqual({
      activation: 'gelu-tanh',
      postNorms: true,
      embeddingScale: 48,
      attentionScale: 1 / 16,
      attentionSoftcap: 50,
      finalSoftcap: 30,
      layerWindows: [8, null, 8, null],
    });
  });

  it('Gemma 3: the √1152 normalizer rounds to bf16 34 (transformers casts it to the dtype); 5 local : 1 global layers with θ_local 10000', () => {
    const { config } = parse({ ...GEMMA3_CONFIG, hidden_size: 1152 });
    expect(Math.sqrt(1152)).toBeCloseTo(33.941, 3);
    expect(config.variant?.embeddingScale).toBe(34);
    expect(parse({ ...GEMMA3_CONFIG, hidden_size: 1152, torch_dtype: 'float32' }).config.variant?.embeddingScale).toBe(Math.fround(Math.sqrt(1152)));
    expect(config.variant?.layerWindows).toEqual([8, 8, 8, 8, 8, null]);
    expect(config.variant?.localRope).toEqual({ theta: 10000 });
    expect(config.variant?.qkNorm).toBe(true);
    expect(config.variant?.attentionSoftcap).toBeUndefined();
    const types = ['full_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention'];
    expect(parse({ ...GEMMA3_CONFIG, layer_types: types }).config.variant?.layerWindows).toEqual([null, 8, null, 8, 8, 8]);
  });

  it('Qwen3-MoE: expert width from moe_intermediate_size; dense layers among experts refused', () => {
    const { config } = parse(QWEN3_MOE_CONFIG);
    expect(config.hiddenDim).toBe(48);
    expect(config.variant?.moe).toEqual({ nExperts: 16, topK: 4, normalizeTopK: true });
    expect(() => parse({ ...QWEN3_MOE_CONFIG, mlp_only_layers: [1] })).toThrow(/dense layers among the experts/);
    expect(() => parse({ ...QWEN3_MOE_CONFIG, num_experts_per_tok: 17 })).toThrow(/num_experts_per_tok 17 exceeds the 16 experts/);
  });

  it('refuses, listing every problem: a SiLU Gemma, a GELU Llama, partial rotary outside Phi-3 (or odd), Gemma fields on a Llama', () => {
    expect(() => parse({ ...GEMMA2_CONFIG, hidden_activation: 'silu' })).toThrow(/hidden_activation silu is not supported \(only gelu_pytorch_tanh\)/);
    let message = '';
    try {
      parse({ ...LLAMA32_CONFIG, hidden_act: 'gelu', partial_rotary_factor: 0.5, attn_logit_softcapping: 50 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/hidden_act gelu is not supported \(only silu\)/);
    expect(message).toMatch(/partial_rotary_factor 0\.5 is not supported for LlamaForCausalLM/);
    expect(() => parse({ ...PHI3_CONFIG, partial_rotary_factor: 0.1 })).toThrow(/partial_rotary_factor 0\.1 gives a rotary width of 1: it must be even/);
    expect(message).toMatch(/attn_logit_softcapping is set but LlamaForCausalLM does not use it/);
  });
});
