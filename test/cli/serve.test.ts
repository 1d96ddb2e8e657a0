import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const BIN = path.resolve('bin/ortlab.cjs');

/** Runs `ortlab serve` until it prints its address; resolves to the child and the address. */
function startServe(...args: string[]) {
  const child = spawn('node', [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /ortlab serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => stdout };
}

describe('ortlab serve (command line)', () => {
  it('prints its address, serves a cross-origin isolated page, stops on Ctrl-C', async function () {
    this.timeout(30_000);
    const serve = startServe('--port', '0');
    const url = await serve.url;
    const page = await fetch(url);
    expect(page.status).to.equal(200);
    expect(page.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).to.equal('require-corp');
    expect(await page.text()).to.include('ortlab in the browser');
    const bundle = await fetch(new URL('bundle/app.js', url));
    expect(bundle.status, 'the built bundle is served').to.equal(200);
    expect(serve.output()).to.include('COOP/COEP on');

    serve.child.kill('SIGINT');
    expect(await serve.exited).to.equal(0);
    const refused = await fetch(url).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(Error);
  });

  it('serves without isolation when asked, and says what that costs', async function () {
    this.timeout(30_000);
    const serve = startServe('--port', '0', '--no-isolation');
    const page = await fetch(await serve.url);
    expect(page.headers.get('cross-origin-embedder-policy')).to.equal(null);
    expect(serve.output()).to.include('not cross-origin isolated, wasm runs on one thread');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).to.equal(0);
  });

  it('rejects a port out of range or an argument it does not take, with the usage', async () => {
    for (const args of [['--port', '70000'], ['--port', 'http'], ['web/']]) {
      const error = await promisify(execFile)('node', [BIN, 'serve', ...args]).catch(
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect(error, args.join(' ')).to.have.property('code', 2);
      expect((error as { stderr: string }).stderr).to.match(/--port|takes no arguments/);
    }
  });
});
