/*
 * ortlab's Pillow-exact resampler as WebAssembly (SIMD128): the same arithmetic as
 * src/runtime/preprocess/resample.ts, which stays the reference and the fallback. Pillow's
 * separable convolution: a horizontal pass over the source rows the vertical pass reads, 22-bit
 * fixed-point coefficients, each sum rounded and clamped to 8 bits between the passes; then the
 * vertical pass, whose 8-bit values are looked up in a per-channel float table and written
 * straight into the tensor.
 *
 * The caller (resample-wasm.ts) lays every array out in linear memory from heap_base() and
 * computes the taps; this file only runs the loops. Built by tools/wasm/build.sh.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define PRECISION_BITS 22
#define HALF (1 << (PRECISION_BITS - 1))

extern unsigned char __heap_base;

/* Where the caller may start laying out its arrays. */
__attribute__((export_name("heap_base"))) uint32_t heap_base(void) {
  return (uint32_t)(uintptr_t)&__heap_base;
}

static inline int32_t clip8(int32_t v) {
  v >>= PRECISION_BITS; /* arithmetic: negative sums stay negative */
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Four i32 lanes to four clamped bytes in the low lanes. */
static inline v128_t clip8x4(v128_t sum) {
  v128_t v = wasm_i32x4_shr(sum, PRECISION_BITS);
  v128_t w = wasm_i16x8_narrow_i32x4(v, v);
  return wasm_u8x16_narrow_i16x8(w, w);
}

/*
 * The horizontal pass: `count` source rows from `first_row`, each to `width` output pixels of
 * `channels` bytes. Output pixel x reads taps_count[x] source pixels from taps_start[x] with the
 * coefficients weights[x * tap_width ...]. With 3 or 4 channels a pixel is one SIMD lane group:
 * 4 bytes are read per source pixel (the caller pads the source by 4 bytes) and 4 written per
 * output pixel (the caller pads `rows` by 4 bytes; a 3-channel pixel's 4th byte is overwritten
 * by the next pixel).
 */
__attribute__((export_name("horizontal"))) void horizontal(
    const uint8_t *pixels, int32_t in_width, int32_t channels, int32_t first_row, int32_t count,
    const int32_t *taps_start, const int32_t *taps_count, const int32_t *weights,
    int32_t tap_width, int32_t width, uint8_t *rows) {
  const int32_t in_stride = in_width * channels;
  const int32_t stride = width * channels;
  for (int32_t y = 0; y < count; y++) {
    const uint8_t *src = pixels + (first_row + y) * in_stride;
    uint8_t *dst = rows + y * stride;
    if (channels == 3 || channels == 4) {
      for (int32_t x = 0; x < width; x++) {
        const uint8_t *p = src + taps_start[x] * channels;
        const int32_t *w = weights + x * tap_width;
        const int32_t n = taps_count[x];
        v128_t sum = wasm_i32x4_splat(HALF);
        for (int32_t t = 0; t < n; t++, p += channels) {
          v128_t px = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(
              wasm_v128_load32_zero(p)));
          sum = wasm_i32x4_add(sum, wasm_i32x4_mul(px, wasm_i32x4_splat(w[t])));
        }
        wasm_v128_store32_lane(dst + x * channels, clip8x4(sum), 0);
      }
    } else {
      for (int32_t x = 0; x < width; x++) {
        const int32_t *w = weights + x * tap_width;
        const int32_t n = taps_count[x];
        for (int32_t c = 0; c < channels; c++) {
          const uint8_t *p = src + taps_start[x] * channels + c;
          int32_t sum = HALF;
          for (int32_t t = 0; t < n; t++, p += channels) sum += *p * w[t];
          dst[x * channels + c] = (uint8_t)clip8(sum);
        }
      }
    }
  }
}

/*
 * The vertical pass and the lookup: output row y sums taps_count[y] rows of `rows` from
 * taps_start[y] (relative to the first row of `rows`), 16 bytes of the interleaved row at a
 * time, into `line` (the caller pads it by 16 bytes); then each of the first `keep` channels
 * goes through table[c * 256 + value] into `out`, as channel planes (`planes` = 1) or
 * interleaved. Where the height does not change the caller passes identity taps (one row,
 * weight 1.0), which give the row's bytes unchanged.
 */
__attribute__((export_name("vertical"))) void vertical(
    const uint8_t *rows, int32_t width, int32_t channels, int32_t height,
    const int32_t *taps_start, const int32_t *taps_count, const int32_t *weights,
    int32_t tap_width, const float *table, int32_t keep, int32_t planes, uint8_t *line,
    float *out) {
  const int32_t stride = width * channels;
  const int32_t area = width * height;
  for (int32_t y = 0; y < height; y++) {
    const uint8_t *base = rows + taps_start[y] * stride;
    const int32_t *w = weights + y * tap_width;
    const int32_t n = taps_count[y];
    for (int32_t i = 0; i < stride; i += 16) {
      v128_t s0 = wasm_i32x4_splat(HALF), s1 = s0, s2 = s0, s3 = s0;
      const uint8_t *p = base + i;
      for (int32_t t = 0; t < n; t++, p += stride) {
        v128_t b = wasm_v128_load(p);
        v128_t lo = wasm_u16x8_extend_low_u8x16(b);
        v128_t hi = wasm_u16x8_extend_high_u8x16(b);
        v128_t k = wasm_i32x4_splat(w[t]);
        s0 = wasm_i32x4_add(s0, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(lo), k));
        s1 = wasm_i32x4_add(s1, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(lo), k));
        s2 = wasm_i32x4_add(s2, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(hi), k));
        s3 = wasm_i32x4_add(s3, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(hi), k));
      }
      v128_t a = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(s0, PRECISION_BITS),
                                         wasm_i32x4_shr(s1, PRECISION_BITS));
      v128_t b = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(s2, PRECISION_BITS),
                                         wasm_i32x4_shr(s3, PRECISION_BITS));
      wasm_v128_store(line + i, wasm_u8x16_narrow_i16x8(a, b));
    }
    // Row y's bytes, rounded to 8 bits as Pillow stores them, then each channel's floats.
    const uint8_t *values = line;
    if (planes) {
      for (int32_t c = 0; c < keep; c++) {
        const float *lut = table + c * 256;
        float *dst = out + c * area + y * width;
        const uint8_t *v = values + c;
        for (int32_t x = 0; x < width; x++, v += channels) dst[x] = lut[*v];
      }
    } else {
      float *dst = out + y * width * keep;
      for (int32_t x = 0; x < width; x++) {
        for (int32_t c = 0; c < keep; c++) {
          dst[x * keep + c] = table[c * 256 + values[x * channels + c]];
        }
      }
    }
  }
}
