/**
 * The page's classifier panel: an image picked, dropped or taken from the MNIST test set goes
 * through the model card's preset and one Grad-CAM session (logits and the feature map in one
 * run), and the page shows the prediction, the probabilities, the logits, and the map over what
 * the model saw, drawn with the same colours as ortlab's HTML reports.
 */
import {
  GradCam,
  imageSource,
  minMaxNormalize,
  openIdxUrl,
  overlayRgb,
  resolvePreset,
  upsampleBilinear,
  type Dataset,
  type ImageSource,
  type ResolvedPreset,
} from '../browser.js';
import { loadBatch } from '../runtime/preprocess/batch.js';
import { byId, drawRgb, hideMessage, messageOf, showMessage } from './dom.js';
import type { ModelCard, PageConfig } from './page-config.js';
import { showNoProvider, showProvider } from './runtime-panel.js';

const MNIST_TEST = '/data/mnist/images-idx3-ubyte.gz';

/** Softmax of one row, in float64. */
function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The model input of one image back in [0, 1], `[channels, height, width]`, for display. */
function inputView(data: Float32Array, preset: ResolvedPreset): Float32Array {
  const channels = preset.channels === 'gray' ? 1 : 3;
  const area = preset.height * preset.width;
  const view = new Float32Array(channels * area);
  const scale = preset.range === 1 ? 1 : 1 / 255;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < area; i++) {
      const at = preset.layout === 'NCHW' ? c * area + i : i * channels + c;
      view[c * area + i] = (data[at] * preset.std[c] + preset.mean[c]) * scale;
    }
  }
  return view;
}

function grey(view: Float32Array, area: number): Uint8Array {
  const channels = view.length / area;
  const rgb = new Uint8Array(area * 3);
  for (let i = 0; i < area; i++) {
    for (let c = 0; c < 3; c++) {
      const v = view[(channels === 3 ? c : 0) * area + i];
      rgb[i * 3 + c] = Math.round(Math.max(0, Math.min(1, v)) * 255);
    }
  }
  return rgb;
}

function showProbabilities(probs: number[], labels: readonly string[]): void {
  const table = byId<HTMLTableElement>('probabilities');
  table.replaceChildren();
  probs.forEach((p, c) => {
    const row = table.insertRow();
    row.insertCell().textContent = labels[c] ?? String(c);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round(p * 120)}px`;
    row.insertCell().append(bar);
    row.insertCell().textContent = `${(100 * p).toFixed(2)}%`;
  });
}

/** The panel, once its Grad-CAM session exists. */
class ClassifyPanel {
  private digits?: Promise<Dataset>;
  private nextDigit = 0;

  constructor(
    private readonly cam: GradCam,
    private readonly preset: ResolvedPreset,
    private readonly labels: readonly string[],
  ) {}

  /** Classifies one image and shows everything; errors are shown in the panel. */
  async classify(source: ImageSource | Promise<ImageSource>, caption: string): Promise<void> {
    const message = byId('classify-message');
    const result = byId('classify-result');
    result.dataset.state = 'busy';
    try {
      const image = await source;
      const batch = await loadBatch(
        [{ index: 0, id: caption, label: 0, source: image }],
        this.preset,
      );
      if (batch.skipped.length > 0) throw new Error(batch.skipped[0].reason);
      const cam = await this.cam.compute({ type: 'float32', data: batch.data, dims: batch.dims });
      this.render(cam.logits, batch.data, cam.targets[0], cam.maps);
      showMessage(message, caption);
      result.hidden = false;
      result.dataset.state = 'done';
    } catch (error) {
      result.hidden = true;
      result.dataset.state = 'error';
      showMessage(message, messageOf(error), 'error');
    }
  }

  private render(
    logits: Float32Array,
    input: Float32Array,
    predicted: number,
    maps: Parameters<typeof upsampleBilinear>[0],
  ): void {
    const { height, width } = this.preset;
    const map = minMaxNormalize(upsampleBilinear(maps, height, width)).data;
    const view = inputView(input, this.preset);
    drawRgb(byId<HTMLCanvasElement>('input-canvas'), grey(view, height * width), width, height);
    drawRgb(
      byId<HTMLCanvasElement>('cam-canvas'),
      overlayRgb(view, map, height, width),
      width,
      height,
    );
    const probs = softmax(logits);
    const label = this.labels[predicted] ?? String(predicted);
    byId('prediction').textContent = `${label} (${(100 * probs[predicted]).toFixed(2)}%)`;
    showProbabilities(probs, this.labels);
    const pre = byId('logits');
    pre.textContent = JSON.stringify(Array.from(logits));
    pre.dataset.logits = pre.textContent;
  }

  /** The next MNIST test digit, read from the bundled IDX file. */
  async sampleDigit(): Promise<void> {
    this.digits ??= openIdxUrl(MNIST_TEST, { name: 'mnist' });
    const index = this.nextDigit++;
    const task = (async () => {
      const dataset = await this.digits!;
      for await (const sample of dataset.samples({ start: index, end: index + 1 })) {
        return sample;
      }
      throw new Error(`MNIST test digit ${index} is missing`);
    })();
    const sample = await task.catch((error: unknown) => {
      showMessage(byId('classify-message'), messageOf(error), 'error');
      return undefined;
    });
    if (!sample) return;
    await this.classify(sample.source, `MNIST test digit #${index}, labelled ${sample.label}`);
  }
}

function wireInputs(panel: ClassifyPanel): void {
  const input = byId<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void panel.classify(imageSource(file), `'${file.name}'`);
    input.value = '';
  });
  const zone = byId('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (!file) {
      showMessage(byId('classify-message'), 'nothing was dropped: drop an image file', 'error');
      return;
    }
    void panel.classify(imageSource(file), `'${file.name}'`);
  });
  byId('sample-button').addEventListener('click', () => void panel.sampleDigit());
}

function disableInputs(): void {
  byId<HTMLInputElement>('file-input').disabled = true;
  byId<HTMLButtonElement>('sample-button').disabled = true;
}

/**
 * Starts the classifier panel: creates the Grad-CAM session on the model at `config.modelUrl`
 * and wires the inputs. A model that fails to load is reported in the panel and in the runtime
 * panel; the inputs are then disabled.
 */
export async function initClassify(config: PageConfig, card: ModelCard): Promise<void> {
  hideMessage(byId('classify-message'));
  let cam: GradCam;
  try {
    cam = await GradCam.create(config.modelUrl, {
      feature: card.featureTensor,
      session: { executionProviders: config.executionProviders, threads: config.threads },
    });
  } catch (error) {
    const text = `the classifier could not start: ${messageOf(error)}`;
    showMessage(byId('classify-message'), text, 'error');
    showNoProvider(messageOf(error));
    disableInputs();
    return;
  }
  showProvider('classifier', cam.session.executionProvider, cam.session.failedProviders);
  const preset = resolvePreset(card.preset ?? 'imagenet', cam.session.inputs[0].dims);
  wireInputs(new ClassifyPanel(cam, preset, card.labels ?? []));
}
