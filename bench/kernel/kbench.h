/* Shared by kbench.c (engine figures) and kbench-pairs.c (reader/writer pairs). */
#ifndef KBENCH_H
#define KBENCH_H
#include <stdint.h>
#include <sys/ioctl.h>

#define PAGE 4096UL

/* include/uapi/linux/fs.h (6.11+); Debian 12's headers predate it. */
struct procmap_query {
  uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset;
  uint64_t inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)

uint64_t now_ns(void);
int pairs_main(int argc, char **argv);

#endif
