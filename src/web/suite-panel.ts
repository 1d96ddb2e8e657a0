/**
 * The page's robustness panel: the embedded suite scored in the browser by the same code as
 * `ortlab demo`, with a progress bar, the same summary table as the terminal, the report's JSON
 * and HTML to download, and the HTML report itself (its mistakes drawn by a canvas).
 */
import {
  Session,
  loadSuiteUrl,
  renderReportHtml,
  runSuiteWeb,
  thumbnailKey,
  type Dataset,
  type ImageSource,
  type ProgressEvent,
  type RobustnessReport,
} from '../browser.js';
import { summaryLines } from '../cli/summary.js';
import { byId, hideMessage, messageOf, showMessage } from './dom.js';
import type { ModelCard, PageConfig } from './page-config.js';
import { showProvider } from './runtime-panel.js';

/** Batch size of the suite, as `ortlab demo` runs it. */
const BATCH = 256;

/** A PNG data: URI of a small image, enlarged by a whole factor to about 84 pixels. */
function thumbnail(source: ImageSource): string | undefined {
  if (source.kind !== 'pixels') return undefined;
  const { width, height, channels, data } = source;
  const image = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++)
      image.data[i * 4 + c] = data[i * channels + (channels >= 3 ? c : 0)];
    image.data[i * 4 + 3] = 255;
  }
  const factor = Math.max(1, Math.floor(96 / Math.max(width, height)));
  const small = document.createElement('canvas');
  small.width = width;
  small.height = height;
  small.getContext('2d')?.putImageData(image, 0, 0);
  const canvas = document.createElement('canvas');
  canvas.width = width * factor;
  canvas.height = height * factor;
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/png');
}

async function thumbnails(
  report: RobustnessReport,
  datasets: ReadonlyMap<string, Dataset>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const split of report.splits) {
    const dataset = datasets.get(split.name);
    if (!dataset) continue;
    for (const mistake of split.mistakes) {
      const range = { start: mistake.index, end: mistake.index + 1 };
      for await (const sample of dataset.samples(range)) {
        const uri = sample.id === mistake.id ? thumbnail(sample.source) : undefined;
        if (uri) out.set(thumbnailKey(split.name, mistake.index), uri);
      }
    }
  }
  return out;
}

function progress(splits: number): (event: ProgressEvent) => void {
  const bar = byId<HTMLProgressElement>('suite-bar');
  const status = byId('suite-status');
  let current = 0;
  return (event) => {
    if (event.status === 'initiate') current++;
    const done = event.status === 'initiate' ? 0 : event.done;
    const total = event.total ?? 0;
    bar.value = total > 0 ? done / total : 0;
    status.textContent =
      `split ${event.task} (${current} of ${splits}): ` +
      `${done.toLocaleString('en')} / ${total.toLocaleString('en')} images`;
  };
}

function download(id: string, text: string, type: string): void {
  const link = byId<HTMLAnchorElement>(id);
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], { type }));
}

async function showReport(
  report: RobustnessReport,
  datasets: ReadonlyMap<string, Dataset>,
): Promise<void> {
  byId('suite-summary').textContent = summaryLines(report).join('\n');
  const html = renderReportHtml(report, { thumbnails: await thumbnails(report, datasets) });
  download('report-json', `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  download('report-html', html, 'text/html');
  byId<HTMLIFrameElement>('report-frame').srcdoc = html;
  byId('suite-result').hidden = false;
}

/**
 * Wires the suite button: the first run creates a plain session on the model (the provider is
 * shown), each run scores every split and shows the report. Errors are shown in the panel.
 */
export function initSuite(config: PageConfig, card: ModelCard | undefined): void {
  const button = byId<HTMLButtonElement>('suite-button');
  const message = byId('suite-message');
  const panel = byId('suite');
  let session: Promise<Session> | undefined;
  button.addEventListener('click', () => {
    button.disabled = true;
    hideMessage(message);
    panel.dataset.state = 'running';
    byId('suite-progress').hidden = false;
    const run = async () => {
      if (!card) throw new Error('the model card did not load, so the preset is unknown');
      const suite = await loadSuiteUrl(config.suiteUrl);
      session ??= Session.create(config.modelUrl, {
        executionProviders: config.executionProviders,
        threads: config.threads,
      });
      const started = await session.catch((error: unknown) => {
        session = undefined;
        throw error;
      });
      showProvider('suite', started.executionProvider, started.failedProviders);
      const began = performance.now();
      const { report, datasets } = await runSuiteWeb(started, suite, {
        preset: card.preset,
        batchSize: BATCH,
        modelUrl: config.modelUrl,
        onProgress: progress(suite.splits.length),
      });
      const seconds = (performance.now() - began) / 1000;
      await showReport(report, datasets);
      showMessage(
        message,
        `${suite.splits.length} splits scored in ${seconds.toFixed(1)} s on ` +
          `${started.executionProvider}`,
      );
    };
    run()
      .then(() => (panel.dataset.state = 'done'))
      .catch((error: unknown) => {
        panel.dataset.state = 'error';
        showMessage(message, `the suite could not run: ${messageOf(error)}`, 'error');
      })
      .finally(() => {
        button.disabled = false;
      });
  });
}
