/**
 * Every tensor (name and PyTorch shape) of a Hugging Face checkpoint of the families beyond the
 * Llama layout, from a config.json: Qwen3 (q/k norms), Phi-3 (fused qkv_proj, gate_up_proj),
 * Gemma 2/3 (four norms per layer; Gemma 3 q/k norms), Mixtral (block_sparse_moe experts),
 * Qwen3-MoE (mlp experts), gpt-oss (biases, sinks, packed experts in their bf16 form), and the
 * plain Llama / Qwen2 layouts. Linear weights are [out, in] except gpt-oss's expert stacks
 * ([E, in, out]); kind 'linear' tensors have their fan-in at shape[1]. Written from transformers'
 * modeling files, separately from the loader (which reads names itself), so that writing with
 * this list and loading with the loader checks one against the other.
 */
export type FamilyTensorKind = 'linear' | 'norm' | 'embedding' | 'bias';

export interface FamilyTensorShape {
  name: string;
  shape: number[];
  kind: FamilyTensorKind;
}

type Json = Record<string, unknown>;

const num = (c: Json, key: string): number => {
  const v = c[key];
  if (typeof v !== 'number') throw new RangeError(`family tensors: config.${key} must be a number`);
  return v;
};

export function familyTensorShapes(config: Json): FamilyTensorShape[] {
  const arch = (config['architectures'] as string[] | undefined)?.[0] ?? '';
  const d = num(config, 'hidden_size');
  const heads = num(config, 'num_attention_heads');
  const kvHeads = (config['num_key_value_heads'] as number | undefined) ?? heads;
  const hd = (config['head_dim'] as number | undefined) ?? d / heads;
  const inter = num(config, 'intermediate_size');
  const V = num(config, 'vocab_size');
  const gemma = arch.startsWith('Gemma');
  const out: FamilyTensorShape[] = [];
  const lin = (name: string, rows: number, cols: number) => out.push({ name, shape: [rows, cols], kind: 'linear' });
  const nrm = (name: string, n: number) => out.push({ name, shape: [n], kind: 'norm' });
  out.push({ name: 'model.embed_tokens.weight', shape: [V, d], kind: 'embedding' });
  for (let l = 0; l < num(config, 'num_hidden_layers'); l++) {
    const p = `model.layers.${l}.`;
    nrm(`${p}input_layernorm.weight`, d);
    nrm(`${p}post_attention_layernorm.weight`, d);
    if (gemma) {
      nrm(`${p}pre_feedforward_layernorm.weight`, d);
      nrm(`${p}post_feedforward_layernorm.weight`, d);
    }
    if (arch === 'Phi3ForCausalLM') lin(`${p}self_attn.qkv_proj.weight`, (heads + 2 * kvHeads) * hd, d);
    else {
      lin(`${p}self_attn.q_proj.weight`, heads * hd, d);
      lin(`${p}self_attn.k_proj.weight`, kvHeads * hd, d);
      lin(`${p}self_attn.v_proj.weight`, kvHeads * hd, d);
    }
    if (arch === 'Qwen2ForCausalLM' || arch === 'GptOssForCausalLM') {
      out.push({ name: `${p}self_attn.q_proj.bias`, shape: [heads * hd], kind: 'bias' });
      out.push({ name: `${p}self_attn.k_proj.bias`, shape: [kvHeads * hd], kind: 'bias' });
      out.push({ name: `${p}self_attn.v_proj.bias`, shape: [kvHeads * hd], kind: 'bias' });
    }
    lin(`${p}self_attn.o_proj.weight`, d, heads * hd);
    if (arch === 'GptOssForCausalLM') {
      out.push({ name: `${p}self_attn.o_proj.bias`, shape: [d], kind: 'bias' });
      out.push({ name: `${p}self_attn.sinks`, shape: [heads], kind: 'bias' });
    }
    if (arch === 'Qwen3ForCausalLM' || arch === 'Qwen3MoeForCausalLM' || arch === 'Gemma3ForCausalLM') {
      nrm(`${p}self_attn.q_norm.weight`, hd);
      nrm(`${p}self_attn.k_norm.weight`, hd);
    }
    if (arch === 'MixtralForCausalLM') {
      const E = num(config, 'num_local_experts');
      lin(`${p}block_sparse_moe.gate.weight`, E, d);
      for (let e = 0; e < E; e++) {
        lin(`${p}block_sparse_moe.experts.${e}.w1.weight`, inter, d);
        lin(`${p}block_sparse_moe.experts.${e}.w2.weight`, d, inter);
        lin(`${p}block_sparse_moe.experts.${e}.w3.weight`, inter, d);
      }
    } else if (arch === 'Qwen3MoeForCausalLM') {
      const E = num(config, 'num_experts');
      const mi = num(config, 'moe_intermediate_size');
      lin(`${p}mlp.gate.weight`, E, d);
      for (let e = 0; e < E; e++) {
        lin(`${p}mlp.experts.${e}.gate_proj.weight`, mi, d);
        lin(`${p}mlp.experts.${e}.up_proj.weight`, mi, d);
        lin(`${p}mlp.experts.${e}.down_proj.weight`, d, mi);
      }
    } else if (arch === 'GptOssForCausalLM') {
      // The bf16 form (x·W layouts); released checkpoints pack the two expert projections as MXFP4.
      const E = num(config, 'num_local_experts');
      lin(`${p}mlp.router.weight`, E, d);
      out.push({ name: `${p}mlp.router.bias`, shape: [E], kind: 'bias' });
      out.push({ name: `${p}mlp.experts.gate_up_proj`, shape: [E, d, 2 * inter], kind: 'linear' });
      out.push({ name: `${p}mlp.experts.gate_up_proj_bias`, shape: [E, 2 * inter], kind: 'bias' });
      out.push({ name: `${p}mlp.experts.down_proj`, shape: [E, inter, d], kind: 'linear' });
      out.push({ name: `${p}mlp.experts.down_proj_bias`, shape: [E, d], kind: 'bias' });
    } else if (arch === 'Phi3ForCausalLM') {
      lin(`${p}mlp.gate_up_proj.weight`, 2 * inter, d);
      lin(`${p}mlp.down_proj.weight`, d, inter);
    } else {
      lin(`${p}mlp.gate_proj.weight`, inter, d);
      lin(`${p}mlp.up_proj.weight`, inter, d);
      lin(`${p}mlp.down_proj.weight`, d, inter);
    }
  }
  nrm('model.norm.weight', d);
  const tied = (config['tie_word_embeddings'] as boolean | undefined) ?? gemma;
  if (!tied) lin('lm_head.weight', V, d);
  return out;
}
