/**
 * Broken or unsupported Hugging Face folders fail with a ModelLoadError that names the file
 * (and the tensor) and says what is wrong — before any math runs.
 */
import { cp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { SafetensorsFile } from '../../model/huggingface/safetensors-file.js';
import { writeHuggingFaceFolder } from '../../model/huggingface/write-huggingface-folder.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { ModelLoadError } from '../../model/model-errors.js';
import { scratchDir, stories260KDir } from './model-dirs.js';

let stories: ModelDescription;
let work: string;
let base: string;
let sharded: string;
let count = 0;

beforeAll(async () => {
  stories = await loadModel(stories260KDir);
  work = await scratchDir('bad-files');
  base = path.join(work, 'base');
  sharded = path.join(work, 'sharded');
  await writeHuggingFaceFolder(base, stories, { dtype: 'f32' });
  await writeHuggingFaceFolder(sharded, stories, { dtype: 'f32', shards: 2 });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh copy of a good folder to break. */
async function copyOf(folder: string): Promise<string> {
  const dir = path.join(work, `case-${++count}`);
  await cp(folder, dir, { recursive: true });
  return dir;
}

/** Loading `dir` fails with a ModelLoadError blaming `file` for `problem`. */
async function expectLoadError(dir: string, file: string, problem: RegExp, withTokenizer = true): Promise<ModelLoadError> {
  const error: unknown = await loadHuggingFaceModel(dir, withTokenizer ? { tokenizer: stories.tokenizer } : {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  const loadError = error as ModelLoadError;
  expect(loadError.file).toBe(path.join(dir, file));
  expect(loadError.problem).toMatch(problem);
  expect(loadError.message).toBe(`${loadError.file}: ${loadError.problem}`);
  return loadError;
}

interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Buffer;
}

/** The raw tensors of a safetensors file, in file order. */
async function readRaw(file: string): Promise<RawTensor[]> {
  const st = await SafetensorsFile.open(file);
  const bytes = await readFile(file);
  const tensors = st.names().map((name) => {
    const info = st.info(name)!;
    return { name, dtype: info.dtype, shape: info.shape, bytes: bytes.subarray(info.begin, info.end) };
  });
  await st.close();
  return tensors.sort((a, b) => a.bytes.byteOffset - b.bytes.byteOffset);
}

/** Writes a safetensors file from raw tensors; `header` may be edited before it is written. */
async function writeRaw(file: string, tensors: RawTensor[], editHeader: (header: Record<string, { data_offsets: number[] }>) => void = () => {}): Promise<void> {
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  editHeader(header);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(file, Buffer.concat([length, json, ...tensors.map((t) => t.bytes)]));
}

async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(file, JSON.stringify(config));
}

describe('safetensors files', () => {
  it('the unbroken folders load', async () => {
    await expect(loadHuggingFaceModel(base, { tokenizer: stories.tokenizer })).resolves.toBeDefined();
    await expect(loadHuggingFaceModel(sharded, { tokenizer: stories.tokenizer })).resolves.toBeDefined();
  });

  it('truncated data: tensors whose bytes run past the end of the file', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const size = (await readFile(file)).length;
    await truncate(file, size - 1000);
    await expectLoadError(dir, 'model.safetensors', /tensor model\.norm\.weight: data_offsets \[\d+, \d+\] run past the end of the file/);
  });

  it('truncated header: the length field promises more than the file has', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    await truncate(file, 100);
    await expectLoadError(dir, 'model.safetensors', /header length \d+ exceeds the 92 bytes after the length field/);
    await truncate(file, 5);
    await expectLoadError(dir, 'model.safetensors', /file is 5 bytes, too short for a safetensors header/);
  });

  it('header offsets past EOF (file otherwise whole)', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    await writeRaw(file, tensors, (header) => {
      header['model.layers.2.self_attn.k_proj.weight']!.data_offsets = [0, 10_000_000];
    });
    await expectLoadError(dir, 'model.safetensors', /tensor model\.layers\.2\.self_attn\.k_proj\.weight: data_offsets \[0, 10000000\] run past the end/);
  });

  it('a header that is not JSON', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from('[[[['), 0, 4, 8);
    await handle.close();
    await expectLoadError(dir, 'model.safetensors', /header is not valid JSON/);
  });

  it.each(['I8', 'F8_E4M3', 'F64'])('unsupported dtype %s', async (dtype) => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    const norm = tensors.find((t) => t.name === 'model.norm.weight')!;
    const width = dtype === 'F64' ? 8 : 1;
    norm.dtype = dtype;
    norm.bytes = Buffer.alloc(64 * width);
    await writeRaw(file, tensors);
    await expectLoadError(dir, 'model.safetensors', new RegExp(`tensor model\\.norm\\.weight has dtype ${dtype}; supported dtypes are F32, F16 and BF16`));
  });

  it('tensors stored in more than one dtype', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    const norm = tensors.find((t) => t.name === 'model.norm.weight')!;
    norm.dtype = 'BF16';
    norm.bytes = Buffer.alloc(64 * 2);
    await writeRaw(file, tensors);
    await expectLoadError(dir, 'model.safetensors', /tensors are stored in more than one dtype: F32 \(e\.g\. model\.embed_tokens\.weight\), BF16 \(e\.g\. model\.norm\.weight\)/);
  });

  it('a missing tensor', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    await writeRaw(file, (await readRaw(file)).filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight'));
    await expectLoadError(dir, 'model.safetensors', /tensor model\.layers\.1\.mlp\.up_proj\.weight is missing/);
  });

  it('a tensor of the wrong shape', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    const wk = tensors.find((t) => t.name === 'model.layers.0.self_attn.k_proj.weight')!;
    wk.shape = [wk.shape[1]!, wk.shape[0]!]; // transposed: same bytes, wrong shape
    await writeRaw(file, tensors);
    await expectLoadError(dir, 'model.safetensors', /tensor model\.layers\.0\.self_attn\.k_proj\.weight has shape \[64, 32\], expected \[32, 64\]/);
  });

  it('bytes that do not hold the declared shape', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    tensors.find((t) => t.name === 'model.norm.weight')!.shape = [65];
    await writeRaw(file, tensors);
    await expectLoadError(dir, 'model.safetensors', /tensor model\.norm\.weight: 256 bytes do not hold shape \[65\] of F32 \(260 bytes\)/);
  });

  it('an o_proj bias (a tensor a Llama does not use)', async () => {
    const dir = await copyOf(base);
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readRaw(file);
    tensors.push({ name: 'model.layers.0.self_attn.o_proj.bias', dtype: 'F32', shape: [64], bytes: Buffer.alloc(256) });
    await writeRaw(file, tensors);
    await expectLoadError(dir, 'model.safetensors', /tensors LlamaForCausalLM does not use: model\.layers\.0\.self_attn\.o_proj\.bias/);
  });

  it('shards: a missing shard file, a tensor the index does not list, no weights at all', async () => {
    let dir = await copyOf(sharded);
    await rm(path.join(dir, 'model-00002-of-00002.safetensors'));
    await expectLoadError(dir, 'model-00002-of-00002.safetensors', /cannot open/);

    dir = await copyOf(sharded);
    const indexFile = path.join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { weight_map: Record<string, string> };
    delete index.weight_map['model.embed_tokens.weight'];
    await writeFile(indexFile, JSON.stringify(index));
    await expectLoadError(dir, 'model.safetensors.index.json', /tensor model\.embed_tokens\.weight is missing/);

    index.weight_map['model.embed_tokens.weight'] = '../elsewhere.safetensors';
    await writeFile(indexFile, JSON.stringify(index));
    await expectLoadError(dir, 'model.safetensors.index.json', /points outside the folder/);

    dir = await copyOf(base);
    await rm(path.join(dir, 'model.safetensors'));
    await expectLoadError(dir, '', /no model\.safetensors or model\.safetensors\.index\.json in the folder/);
  });
});

describe('config.json', () => {
  it('an unknown architecture', async () => {
    const dir = await copyOf(base);
    await editConfig(dir, (c) => {
      c['architectures'] = ['GPT2LMHeadModel'];
    });
    await expectLoadError(dir, 'config.json', /architecture GPT2LMHeadModel is not supported \(supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM, GptOssForCausalLM\)/);
  });

  it('lists every schema problem at once', async () => {
    const dir = await copyOf(base);
    await editConfig(dir, (c) => {
      c['hidden_size'] = 'sixty-four';
      c['num_hidden_layers'] = -1;
      delete c['vocab_size'];
    });
    const error = await expectLoadError(dir, 'config.json', /hidden_size: Expected number, received string/);
    expect(error.problem).toMatch(/num_hidden_layers: Number must be greater than 0/);
    expect(error.problem).toMatch(/vocab_size: Required/);
  });

  it('rejects unknown RoPE scaling, other activations and inconsistent heads, together', async () => {
    const dir = await copyOf(base);
    await editConfig(dir, (c) => {
      c['rope_scaling'] = { rope_type: 'mrope', factor: 8 };
      c['hidden_act'] = 'gelu';
      c['num_key_value_heads'] = 3;
    });
    const error = await expectLoadError(dir, 'config.json', /rope_scaling type "mrope" is not implemented \(implemented: default, linear, dynamic, llama3, yarn, longrope\)/);
    expect(error.problem).toMatch(/hidden_act gelu is not supported/);
    expect(error.problem).toMatch(/num_attention_heads 8 is not a multiple of num_key_value_heads 3/);
  });

  it('limits the context to a sliding window (exact: full attention within it)', async () => {
    const dir = await copyOf(base);
    await editConfig(dir, (c) => {
      c['architectures'] = ['MistralForCausalLM'];
      c['sliding_window'] = 128;
    });
    const model = await loadHuggingFaceModel(dir, { tokenizer: stories.tokenizer });
    expect(model.config.maxSeqLen).toBe(128);
    expect(model.config.architecture).toBe('mistral');
    await editConfig(dir, (c) => {
      c['architectures'] = ['Qwen2ForCausalLM'];
      c['use_sliding_window'] = false;
    });
    expect((await loadHuggingFaceModel(dir, { tokenizer: stories.tokenizer })).config.maxSeqLen).toBe(stories.config.maxSeqLen);
  });

  it('a missing config.json or tokenizer.json', async () => {
    let dir = await copyOf(base);
    await rm(path.join(dir, 'config.json'));
    await expectLoadError(dir, 'config.json', /file is missing/);
    dir = await copyOf(base);
    await expectLoadError(dir, 'tokenizer.json', /file is missing/, false);
  });
});
