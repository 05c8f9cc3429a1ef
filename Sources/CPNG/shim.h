#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* Discern's PNG reader. libpng reports errors by longjmp, which Swift cannot catch,
   so the whole read (including the memory read callback) lives here in C and returns
   a status plus a message. Output is 8-bit expanded rows: palette -> RGB, gray < 8 bit -> 8 bit,
   16-bit samples -> their high byte (png_set_strip_16, what viewers show), no gamma; tRNS is
   ignored (PIL drops it too). */

typedef struct { const unsigned char *data; size_t size; size_t pos; char msg[256]; } discern_png_src;

static void discern_png_read_fn(png_structp p, png_bytep out, size_t n) {
    discern_png_src *s = (discern_png_src *)png_get_io_ptr(p);
    if (n > s->size - s->pos) png_error(p, "file is truncated");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

static void discern_png_error_fn(png_structp p, png_const_charp m) {
    discern_png_src *s = (discern_png_src *)png_get_error_ptr(p);
    strncpy(s->msg, m ? m : "unknown libpng error", sizeof s->msg - 1);
    s->msg[sizeof s->msg - 1] = 0;
    png_longjmp(p, 1);
}

static void discern_png_warning_fn(png_structp p, png_const_charp m) { (void)p; (void)m; }

/* Returns 0 ok, 1 libpng error (msg filled), 2 too many pixels (dims filled), 3 out of memory.
   On success *pixels is malloc'ed (caller frees) with rows of width*channels bytes (depth is 8). */
static inline int discern_png_decode(const unsigned char *data, size_t size, unsigned long long maxPixels,
                                     unsigned char **pixels, unsigned *width, unsigned *height,
                                     int *channels, int *depth, int *colorType, char *msg, size_t msgSize) {
    discern_png_src src;
    src.data = data; src.size = size; src.pos = 0; src.msg[0] = 0;
    unsigned char *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, discern_png_error_fn, discern_png_warning_fn);
    if (!png) return 3;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); return 3; }
    volatile int rowsDone = 0;
    if (setjmp(png_jmpbuf(png))) {
        if (rowsDone) {
            /* Every row is decoded; only the trailer (late chunks, IEND) is bad or missing. PIL ignores
               what follows the image data too, so the image is kept. */
            free(rows);
            png_destroy_read_struct(&png, &info, NULL);
            *pixels = buf;
            return 0;
        }
        free(buf); free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        strncpy(msg, src.msg, msgSize - 1); msg[msgSize - 1] = 0;
        return 1;
    }
    png_set_read_fn(png, &src, discern_png_read_fn);
    /* Skip every ancillary chunk but tRNS unparsed: the output never uses them (no gamma, ICC, text,
       background), and libpng allocates a text/ICC chunk's declared length before reading it, with
       the size limit only a benign (ignored) error: a 114-byte PNG made it malloc 1.8 GB (fuzzing). */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int ct = png_get_color_type(png, info), bd = png_get_bit_depth(png, info);
    *width = w; *height = h; *colorType = ct;
    if ((unsigned long long)w * (unsigned long long)h > maxPixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bd == 16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info), d = png_get_bit_depth(png, info);
    size_t rowBytes = png_get_rowbytes(png, info);
    *channels = ch; *depth = d;
    buf = (unsigned char *)malloc(rowBytes * h ? rowBytes * h : 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1));
    if (!buf || !rows) { free(buf); free(rows); png_destroy_read_struct(&png, &info, NULL); return 3; }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buf + (size_t)y * rowBytes;
    png_read_image(png, rows);
    rowsDone = 1;
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *pixels = buf;
    return 0;
}
