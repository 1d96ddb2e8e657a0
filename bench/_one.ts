const name = process.argv[2];
const mod = await import(`./${name}.js`);
const fn = Object.values(mod).find((f) => typeof f === 'function' && (f as Function).name.startsWith('bench')) as () => Promise<unknown>;
await fn();
