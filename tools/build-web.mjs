// Builds the browser bundle (dist/bundle/: ortlab.js, the demo page's app.js and their chunks)
// after `tsc` has compiled dist/. Run by `npm run build`; `ortlab serve` serves the result.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildWebBundle } from '../dist/server/web-bundle.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = await buildWebBundle({ root });
const kib = bundle.files.reduce((sum, f) => sum + f.bytes, 0) / 1024;
console.log(`browser bundle: ${bundle.files.length} files, ${kib.toFixed(0)} KiB in ${bundle.outDir}`);
