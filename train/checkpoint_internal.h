/* Pieces shared by the checkpoint writer, reader and run-directory helpers:
 * the reserved metadata keys, the dtype table lookup, chunked CRC-32 and the
 * header self-checksum convention. */
#pragma once
#include "train/checkpoint.h"
#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints store tensors as raw little-endian bytes: a big-endian port must swap them"
#endif

#define CKPT_KEY_VERSION "vkmist_format_version"
#define CKPT_KEY_DATA_CRC "vkmist_crc32"
/* CRC-32 of the header bytes with this key's 8 hex digits read as "00000000":
 * the header cannot hold its own checksum, so the value is zeroed for it. */
#define CKPT_KEY_HDR_CRC "vkmist_header_crc32"
#define CKPT_RESERVED_PREFIX "vkmist_"
/* Headers above this are refused before parsing (safetensors' own limit). */
#define CKPT_MAX_HEADER (100u * 1024u * 1024u)

/* Index of a dtype name ("F32"), or -1. */
int ckpt_dtype_parse(const char *s);
/* zlib crc32 over any length (zlib takes uInt chunks). */
uint32_t ckpt_crc32(uint32_t crc, const void *p, uint64_t n);
/* Offset of the 8 hex digits of CKPT_KEY_HDR_CRC in a serialized header, or
 * -1 when the key is absent or occurs more than once. */
int64_t ckpt_hdr_crc_pos(const char *hdr, size_t len);
/* CRC-32 of hdr with the 8 bytes at pos taken as '0'. */
uint32_t ckpt_hdr_crc(const char *hdr, size_t len, size_t pos);
