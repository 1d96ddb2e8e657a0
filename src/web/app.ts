/**
 * The demo page served by `ortlab serve`: where the models run and why, the bundled classifier
 * with Grad-CAM, the embedded robustness suite, and emoji retrieval. Every failure is shown on
 * the page in words; ortlab's log goes to the page, not the console.
 */
import { configureWebRuntime, inspectWebEnvironment, setLogSink } from '../browser.js';
import { initClassify } from './classify-panel.js';
import { byId, messageOf, showMessage } from './dom.js';
import { fetchModelCard, pageConfig, type ModelCard } from './page-config.js';
import { initRetrieval } from './retrieval-panel.js';
import { pageLogSink, showEnvironment, showNoProvider } from './runtime-panel.js';
import { initSuite } from './suite-panel.js';

function showPageError(error: unknown): void {
  showMessage(byId('page-error'), `Something went wrong: ${messageOf(error)}`, 'error');
  document.body.dataset.state = 'error';
}

async function main(): Promise<void> {
  setLogSink(pageLogSink());
  const config = pageConfig(location.search);
  configureWebRuntime({ wasmPaths: '/ort/', threads: config.threads });
  showEnvironment(await inspectWebEnvironment());

  let card: ModelCard | undefined;
  try {
    card = await fetchModelCard(config.cardUrl);
  } catch (error) {
    showMessage(byId('classify-message'), messageOf(error), 'error');
    showNoProvider(messageOf(error));
  }
  initSuite(config, card);
  const retrieval = initRetrieval(config);
  if (card) await initClassify(config, card);
  document.body.dataset.state = 'ready';
  await retrieval;
}

window.addEventListener('error', (event) => showPageError(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showPageError(event.reason));
main().catch(showPageError);
