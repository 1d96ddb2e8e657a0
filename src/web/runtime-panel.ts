/**
 * The page's "where the models run" panel: the execution provider each session really runs on,
 * the providers that did not start and why, WebGPU and cross-origin isolation as the browser
 * reports them, and ortlab's own warnings (its log goes here, not to the console).
 */
import type { LogSink, ProviderFailure, WebEnvironment } from '../browser.js';
import { addListMessage, byId } from './dom.js';

/** Shows what the browser offers: WebGPU (or why not) and the wasm threads (or why one). */
export function showEnvironment(environment: WebEnvironment): void {
  const { webgpu } = environment;
  const gpu = byId('webgpu');
  if (webgpu.available) {
    const { vendor, architecture } = webgpu.adapter ?? { vendor: '', architecture: '' };
    const adapter = [vendor, architecture].filter(Boolean).join(' ') || 'unnamed';
    gpu.textContent = `available (adapter: ${adapter})`;
    gpu.className = '';
  } else {
    gpu.textContent = `not available: ${webgpu.reason ?? 'unknown reason'}; models run on wasm`;
    gpu.className = 'warning';
  }
  const threads = byId('threads');
  threads.textContent = environment.crossOriginIsolated
    ? `${environment.wasmThreads} (the page is cross-origin isolated; ` +
      `${environment.hardwareConcurrency} cores)`
    : `1 (the page is not cross-origin isolated, so wasm cannot use threads)`;
  threads.className = environment.crossOriginIsolated ? '' : 'warning';
}

/**
 * Shows the provider a session runs on, and which asked-for providers did not start (their
 * reasons are in the messages: ortlab logs each).
 */
export function showProvider(
  what: string,
  provider: string,
  failed: readonly ProviderFailure[],
): void {
  const element = byId('provider');
  const skipped = failed.length
    ? `; ${failed.map((f) => f.name).join(', ')} did not start (see below)`
    : '';
  element.textContent = `${provider} for the ${what}${skipped}`;
  element.dataset.provider = provider;
  element.className = '';
}

/** Says that no model runs, and why. */
export function showNoProvider(reason: string): void {
  const element = byId('provider');
  element.textContent = `none: ${reason}`;
  element.className = 'error';
}

/** A log sink that lists ortlab's warnings and errors on the page, each once. */
export function pageLogSink(): LogSink {
  const seen = new Set<string>();
  return (level, category, message) => {
    if (level !== 'warning' && level !== 'error' && level !== 'fatal') return;
    const text = `${category}: ${message}`;
    if (seen.has(text)) return;
    seen.add(text);
    addListMessage(byId('runtime-messages'), text, level === 'warning' ? 'warning' : 'error');
  };
}
