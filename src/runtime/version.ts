/**
 * ortlab's version, for reports built where package.json cannot be read (the browser). A test
 * checks that it equals the version in package.json.
 */
export const ORTLAB_VERSION = '0.1.0';
