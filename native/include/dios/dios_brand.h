/*
 * dios_brand.h - the DIOS ELF brands (seed table 3.5), shared by
 * `dios brand` (native/tools/dios_brand.c) and the task launcher
 * (native/launcher/dios-launch.c).
 *
 * A DIOS executable is an ordinary ELF file with two bytes of its e_ident
 * changed.  Linux ignores both when it loads a program (and glibc's loader
 * reads them only for the libraries it opens itself), so a branded program
 * still runs; diosd and dios-launch refuse an unbranded one.
 *
 * The brand values (DIOS_ELF_OSABI, DIOS_BRAND_PURE 0x05, DIOS_BRAND_LIMBO
 * 0x11, DIOS_BRAND_LEGACY_LIMBO 0x13) are defined once, in dios_abi.h, where
 * AbiLayoutTest holds the Java daemon's copy to them; this header adds the
 * e_ident offsets and the helpers.
 *
 * dios-launch's --policy names map to them: pure = 0x05, limbo = 0x11,
 * legacy = 0x13.  A file is branded when it starts with the ELF magic,
 * e_ident[7] is 0xD1 and e_ident[8] is one of the three brands; anything else
 * is unbranded.
 */
#ifndef DIOS_BRAND_H
#define DIOS_BRAND_H

#include <dios/dios_abi.h>

#define DIOS_ELF_EI_OSABI       7
#define DIOS_ELF_EI_ABIVERSION  8

/*
 * The brand byte (DIOS_BRAND_*) of an ELF identification block (the first 16
 * bytes of the file), or -1 if it is not an ELF file or carries no DIOS brand.
 */
static inline int dios_elf_brand_of(const unsigned char ident[16])
{
	if (ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F')
		return -1;
	if (ident[DIOS_ELF_EI_OSABI] != DIOS_ELF_OSABI)
		return -1;
	switch (ident[DIOS_ELF_EI_ABIVERSION]) {
	case DIOS_BRAND_PURE:
	case DIOS_BRAND_LIMBO:
	case DIOS_BRAND_LEGACY_LIMBO:
		return ident[DIOS_ELF_EI_ABIVERSION];
	default:
		return -1;
	}
}

/* "pure", "limbo", "legacy-limbo" for a brand byte; NULL for anything else. */
static inline const char *dios_brand_name(int brand)
{
	switch (brand) {
	case DIOS_BRAND_PURE:         return "pure";
	case DIOS_BRAND_LIMBO:        return "limbo";
	case DIOS_BRAND_LEGACY_LIMBO: return "legacy-limbo";
	default:                      return NULL;
	}
}

#endif /* DIOS_BRAND_H */
