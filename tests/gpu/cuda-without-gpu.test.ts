/**
 * The GPU backend's life on a machine without a GPU (the development and CI machines): nvcc
 * builds the kernel library (skipped, with the reason in the test's name, where nvcc is absent);
 * `permllm engine --device cuda` refuses to start with a message that says what is missing (a
 * real process, failing before it loads the model); `--device auto` falls back to the CPU, logs
 * it, and the three parties serve a completion. On a machine with a GPU the refusal tests are
 * skipped (the device is there) and the auto test runs on the GPU.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCudaLibrary } from '../../compute/cuda/cuda-library.js';
import { complete } from '../helpers/openai-requests.js';
import { binPath, defaultModelDir, killAllRoles, repoRoot, startThreeParties } from '../helpers/processes.js';
import { cudaAvailability, findNvcc } from '../helpers/cuda-availability.js';

const run = promisify(execFile);
const nvcc = findNvcc();
const gpu = cudaAvailability();
let buildDir: string;
let built: string | undefined;

beforeAll(async () => {
  buildDir = await mkdtemp(path.join(tmpdir(), 'permllm-cuda-build-'));
  if (nvcc) {
    await run('bash', [path.join(repoRoot, 'scripts/build-cuda.sh')], { env: { ...process.env, NVCC: nvcc, PERMLLM_CUDA_BUILD_DIR: buildDir }, timeout: 300_000 });
    built = path.join(buildDir, 'libpermllm-cuda.so');
  }
}, 300_000);

afterAll(async () => {
  await killAllRoles();
  await rm(buildDir, { recursive: true, force: true });
});

describe('the CUDA kernel library', () => {
  it.skipIf(!nvcc)(`nvcc compiles native/cuda/permllm-cuda.cu into a loadable library${nvcc ? '' : ' (skipped: nvcc not found)'}`, () => {
    expect(built && existsSync(built)).toBeTruthy();
    let opened: unknown;
    try {
      opened = openCudaLibrary({ path: built! });
    } catch (error) {
      opened = error;
    }
    // Loaded and called: either a device answers or the runtime's own error says why not.
    if (gpu.available) expect((opened as { deviceName: string }).deviceName).not.toBe('');
    else expect(String(opened)).toMatch(/CudaUnavailableError: CUDA device unavailable: (no NVIDIA driver|the driver reports no CUDA device|the driver failed) .*\(cudaError\w+: .+\)/);
  });
});

describe('permllm engine --device cuda without a usable GPU', () => {
  const skip = gpu.available ? ' (skipped: this machine has a GPU)' : '';
  const engine = async (env: Record<string, string>) =>
    (await run(process.execPath, [binPath, 'engine', '--device', 'cuda', '--model', defaultModelDir, '--dealer', 'http://127.0.0.1:9', '--port', '0'], { env: { PATH: process.env['PATH'] ?? '', HOME: tmpdir(), ...env }, timeout: 60_000 }).catch((e: unknown) => e)) as { code?: number; stderr?: string };

  it.skipIf(gpu.available)(`refuses to start when the kernel library is not built, naming the build script${skip}`, async () => {
    const failure = await engine({ PERMLLM_CUDA_LIB: path.join(tmpdir(), 'no-such-libpermllm-cuda.so') });
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/permllm engine: CUDA device unavailable: kernel library \S+no-such-libpermllm-cuda\.so not found; build it with scripts\/build-cuda\.sh/);
    expect(failure.stderr).not.toMatch(/loading /); // before the model
  });

  it.skipIf(gpu.available || !nvcc)(`refuses to start with the driver's error when the library is built${skip || (nvcc ? '' : ' (skipped: nvcc not found)')}`, async () => {
    const failure = await engine({ PERMLLM_CUDA_LIB: built! });
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/permllm engine: CUDA device unavailable: (no NVIDIA driver \(libcuda\.so\.1\) on this machine|the driver reports no CUDA device|the driver failed) \(cudaError\w+: [^)]+\)/);
    expect(failure.stderr).not.toMatch(/loading /);
  });

  it('PERMLLM_DEVICE is the flag\'s variable and a bad value is refused', async () => {
    const failure = (await run(process.execPath, [binPath, 'engine', '--dealer', 'http://127.0.0.1:9'], { env: { PATH: process.env['PATH'] ?? '', HOME: tmpdir(), PERMLLM_DEVICE: 'tpu' }, timeout: 60_000 }).catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(failure.code).not.toBe(0);
    expect(failure.stderr).toMatch(/device/);
    expect(failure.stderr).toMatch(/cpu.*cuda.*auto/);
  });
});

describe('--device auto', () => {
  it(`engine, dealer and gateway ${gpu.available ? 'take the GPU' : 'fall back to the CPU, say so,'} and serve a completion`, async () => {
    const auto = ['--device', 'auto'];
    const parties = await startThreeParties({ args: { engine: auto, dealer: auto, gateway: auto } });
    try {
      await parties.waitUntilReady();
      const result = await complete(parties.baseURL, { prompt: 'Once upon a time', max_tokens: 4 });
      expect(result.completionTokens).toBe(4);
      const expected = gpu.available ? /compute on the GPU: / : /--device auto: falling back to the CPU \(CUDA device unavailable: /;
      for (const role of [parties.engine, parties.dealer, parties.gateway]) expect(role.stderr()).toMatch(expected);
    } finally {
      await parties.stop();
    }
  });
});
