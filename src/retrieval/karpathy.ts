/**
 * Readers for the Karpathy splits of COCO and Flickr30K (`dataset_coco.json`,
 * `dataset_flickr30k.json`): the images of one split, their captions in file order, and the
 * image of each caption, ready for {@link recallAtK}'s `textToImage`.
 */

/** The images and captions of one split. */
export interface KarpathySplit {
  dataset: string;
  split: string;
  /** Image paths relative to the image root (`filepath/filename` for COCO). */
  images: string[];
  captions: string[];
  textToImage: Int32Array;
  /** Captions per image when every image has the same number, else undefined. */
  captionsPerImage?: number;
  /** Each image's `label` field, when the file gives one (the emoji set names its emoji). */
  names?: string[];
  /** The file's `styles` list, when it has one: image folders beside it, one per art style. */
  styles?: string[];
}

interface KarpathyImage {
  filepath?: string;
  filename?: string;
  split?: string;
  label?: string;
  sentences?: { raw?: string }[];
}

const SPLITS = ['train', 'val', 'test', 'restval'];

/**
 * Parses a Karpathy split file's JSON text and keeps one split (default `test`; `train`
 * includes `restval`, as the VSE++ training does).
 * @throws Error naming the file when it is not a Karpathy split file or the split is empty.
 * @example
 * ```ts
 * const test = parseKarpathy(await readFile('dataset_coco.json', 'utf8'), { split: 'test' });
 * test.images.length; // 5000 for COCO
 * ```
 */
export function parseKarpathy(
  text: string,
  options: { split?: string; file?: string; maxCaptions?: number } = {},
): KarpathySplit {
  const file = options.file ?? 'the split file';
  const split = options.split ?? 'test';
  if (!SPLITS.includes(split)) {
    throw new RangeError(`split must be one of ${SPLITS.join(', ')}, got '${split}'`);
  }
  let parsed: { dataset?: string; images?: KarpathyImage[]; styles?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new Error(`${file} is not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed.images)) {
    throw new Error(
      `${file} has no "images" list; expected a Karpathy split file such as dataset_coco.json`,
    );
  }
  const wanted = split === 'train' ? ['train', 'restval'] : [split];
  const images: string[] = [];
  const captions: string[] = [];
  const owner: number[] = [];
  const names: string[] = [];
  const counts = new Set<number>();
  for (const image of parsed.images) {
    if (!wanted.includes(image.split ?? '')) continue;
    if (typeof image.filename !== 'string' || !Array.isArray(image.sentences)) {
      throw new Error(
        `${file}: image ${images.length} of split '${split}' has no filename or sentences`,
      );
    }
    const index = images.length;
    images.push(image.filepath ? `${image.filepath}/${image.filename}` : image.filename);
    names.push(typeof image.label === 'string' ? image.label : '');
    const sentences = image.sentences.slice(0, options.maxCaptions ?? image.sentences.length);
    for (const sentence of sentences) {
      captions.push(String(sentence.raw ?? '').trim());
      owner.push(index);
    }
    counts.add(sentences.length);
  }
  if (images.length === 0) throw new Error(`${file} has no image in split '${split}'`);
  return {
    dataset: parsed.dataset ?? 'unknown',
    split,
    images,
    captions,
    textToImage: Int32Array.from(owner),
    captionsPerImage: counts.size === 1 ? [...counts][0] : undefined,
    ...(names.some((n) => n !== '') ? { names } : {}),
    ...(Array.isArray(parsed.styles) && parsed.styles.every((x) => typeof x === 'string')
      ? { styles: parsed.styles }
      : {}),
  };
}
