/**
 * An image's size read from the first bytes of its file, without decoding it: JPEG (the frame
 * header) and PNG (IHDR). Enough to bound how much decoded memory a batch holds at once.
 */

/** Width and height from a JPEG or PNG header; undefined for other formats or a cut header. */
export function headerSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The first chunk of a PNG is IHDR: its width and height open its data.
    if (view.getUint32(12) !== 0x49484452) return undefined;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    // SOF0..SOF15 hold the frame's size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: (bytes[i + 5] << 8) | bytes[i + 6],
        width: (bytes[i + 7] << 8) | bytes[i + 8],
      };
    }
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  return undefined;
}

/** Decoded bytes per file byte assumed for formats whose header `headerSize` does not read. */
export const UNKNOWN_EXPANSION = 32;

/**
 * The bytes a file's decoded 8-bit pixels will take (4 per pixel, with alpha, the most sharp
 * returns): from its header when it is a JPEG or PNG, else `UNKNOWN_EXPANSION` per file byte.
 */
export function decodedBytesEstimate(bytes: Uint8Array): number {
  const size = headerSize(bytes);
  return size === undefined ? bytes.length * UNKNOWN_EXPANSION : size.width * size.height * 4;
}
