/* The x86 boot protocol's data layout (Documentation/arch/x86/boot.rst, zero-page.rst), only
 * the fields a 64-bit boot loader sets or reads. Offsets are the protocol's; the unit tests check
 * them against the document's table. */
#ifndef WARD_VMM_BOOTPARAM_H
#define WARD_VMM_BOOTPARAM_H

#include <stdint.h>

#define BP_HDR_MAGIC 0x53726448u /* "HdrS" */
#define BP_BOOT_FLAG 0xaa55
#define BP_LOADED_HIGH 0x01 /* loadflags */
#define BP_CAN_USE_HEAP 0x80
#define BP_XLF_KERNEL_64 0x0001 /* xloadflags: has the 64-bit entry at +0x200 */
#define BP_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BP_MIN_VERSION 0x020c /* 2.12: xloadflags exist */

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES_ZEROPAGE 128

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The setup header, at 0x1f1 both in a bzImage and in boot_params. */
struct setup_header {
	uint8_t setup_sects; /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode; /* 0x1fa */
	uint16_t root_dev;
	uint16_t boot_flag; /* 0x1fe */
	uint16_t jump;	    /* 0x200 */
	uint32_t header;    /* 0x202 */
	uint16_t version;   /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader; /* 0x210 */
	uint8_t loadflags;	/* 0x211 */
	uint16_t setup_move_size;
	uint32_t code32_start;	/* 0x214 */
	uint32_t ramdisk_image; /* 0x218 */
	uint32_t ramdisk_size;	/* 0x21c */
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr; /* 0x224 */
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;	    /* 0x228 */
	uint32_t initrd_addr_max;   /* 0x22c */
	uint32_t kernel_alignment;  /* 0x230 */
	uint8_t relocatable_kernel; /* 0x234 */
	uint8_t min_alignment;
	uint16_t xloadflags;   /* 0x236 */
	uint32_t cmdline_size; /* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;   /* 0x250 */
	uint64_t pref_address; /* 0x258 */
	uint32_t init_size;    /* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset; /* 0x268 */
} __attribute__((packed));

/* The zero page. */
struct boot_params {
	uint8_t screen_info[0x40];   /* 0x000 */
	uint8_t apm_bios_info[0x14]; /* 0x040 */
	uint8_t _pad2[4];
	uint64_t tboot_addr;	 /* 0x058 */
	uint8_t ist_info[0x10];	 /* 0x060 */
	uint64_t acpi_rsdp_addr; /* 0x070 */
	uint8_t _pad3[8];
	uint8_t hd0_info[16]; /* 0x080 */
	uint8_t hd1_info[16];
	uint8_t sys_desc_table[0x10];  /* 0x0a0 */
	uint8_t olpc_ofw_header[0x10]; /* 0x0b0 */
	uint32_t ext_ramdisk_image;    /* 0x0c0 */
	uint32_t ext_ramdisk_size;     /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;     /* 0x0c8 */
	uint8_t _pad4[0x70];
	uint32_t cc_blob_address; /* 0x13c */
	uint8_t edid_info[0x80];  /* 0x140 */
	uint8_t efi_info[0x20];	  /* 0x1c0 */
	uint32_t alt_mem_k;	  /* 0x1e0 */
	uint32_t scratch;
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t _pad5[2];
	uint8_t sentinel; /* 0x1ef */
	uint8_t _pad6[1];
	struct setup_header hdr; /* 0x1f1 */
	uint8_t _pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];			 /* 0x290 */
	struct e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad8[48];					 /* 0xcd0 */
	uint8_t eddbuf[0x1ec];					 /* 0xd00 */
	uint8_t _pad9[276];					 /* 0xeec */
} __attribute__((packed));

_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");
_Static_assert(__builtin_offsetof(struct boot_params, hdr) == 0x1f1, "hdr at 0x1f1");
_Static_assert(__builtin_offsetof(struct boot_params, e820_table) == 0x2d0, "e820 at 0x2d0");

#endif
