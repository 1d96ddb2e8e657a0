/**
 * Small DOM helpers of the demo page: elements by id (a missing one is a bug in the page, said
 * plainly), visible messages, and the text of any thrown value.
 */

/** The element with this id, of this type. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  return element as T;
}

/** The message of a thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How a message is styled, and whether it is announced as an alert. */
export type MessageKind = 'info' | 'warning' | 'error';

/** Shows `text` in a message element (`role` status or alert), styled by kind. */
export function showMessage(element: HTMLElement, text: string, kind: MessageKind = 'info'): void {
  element.textContent = text;
  element.className = kind === 'info' ? 'message' : `message ${kind}`;
  element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  element.hidden = false;
}

/** Hides a message element. */
export function hideMessage(element: HTMLElement): void {
  element.hidden = true;
  element.textContent = '';
}

/** Adds a line to a list of messages. */
export function addListMessage(list: HTMLElement, text: string, kind: MessageKind): void {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = text;
  list.append(item);
}

/** Draws 8-bit RGB pixels `[height, width, 3]` on a canvas, enlarged with nearest sampling. */
export function drawRgb(canvas: HTMLCanvasElement, rgb: Uint8Array, width: number, height: number) {
  const image = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    image.data[i * 4] = rgb[i * 3];
    image.data[i * 4 + 1] = rgb[i * 3 + 1];
    image.data[i * 4 + 2] = rgb[i * 3 + 2];
    image.data[i * 4 + 3] = 255;
  }
  const small = new OffscreenCanvas(width, height);
  small.getContext('2d')?.putImageData(image, 0, 0);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas context is available in this browser');
  context.imageSmoothingEnabled = false;
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}
