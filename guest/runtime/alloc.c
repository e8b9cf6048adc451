/* The guest heap: first fit over a free list, boundary tags for O(1) coalescing, 16-byte align. */
#include "runtime.h"

/*
 * The heap is a run of blocks, each a 16-byte header then its payload:
 *   | prev_size | size|USED | payload ... | prev_size | size|USED | payload ... | 0 | USED |
 * size counts the header; prev_size is the size of the block before (0 for the first), so both
 * neighbours of a block are found in O(1). A zero-sized used block ends the heap. Free blocks keep
 * their free-list links in their payload, hence the 32-byte minimum block.
 */
struct block {
  uint64_t prev_size;
  uint64_t size_used; /* size | USED */
  struct block* next; /* free blocks only */
  struct block* prev;
};

#define USED 1u
#define HEADER 16u
#define MIN_BLOCK 32u

static struct block* free_list;
static uintptr_t heap_lo, heap_hi; /* [lo, hi) holds every block and the end marker */

static size_t size_of(const struct block* b) { return b->size_used & ~(uint64_t)15; }
static bool is_used(const struct block* b) { return (b->size_used & USED) != 0; }
static struct block* after(struct block* b) { return (struct block*)((uintptr_t)b + size_of(b)); }
static struct block* before(struct block* b) {
  return b->prev_size ? (struct block*)((uintptr_t)b - b->prev_size) : NULL;
}
static struct block* block_of(void* p) { return (struct block*)((uintptr_t)p - HEADER); }
static void* payload_of(struct block* b) { return (uint8_t*)b + HEADER; }

static void set_size(struct block* b, size_t size, bool used) {
  b->size_used = size | (used ? USED : 0);
  after(b)->prev_size = size;
}

static void unlink_free(struct block* b) {
  if (b->prev)
    b->prev->next = b->next;
  else
    free_list = b->next;
  if (b->next) b->next->prev = b->prev;
}

static void push_free(struct block* b) {
  b->prev = NULL;
  b->next = free_list;
  if (free_list) free_list->prev = b;
  free_list = b;
}

void mote_rt_heap_init(uint64_t base, uint64_t size) {
  uintptr_t lo = ((uintptr_t)base + 15) & ~(uintptr_t)15;
  uintptr_t hi = ((uintptr_t)(base + size)) & ~(uintptr_t)15;
  free_list = NULL;
  heap_lo = heap_hi = 0;
  if (hi < lo || hi - lo < MIN_BLOCK + HEADER) return; /* no heap: every allocation fails */
  heap_lo = lo;
  heap_hi = hi;
  struct block* end = (struct block*)(hi - HEADER);
  end->size_used = USED; /* size 0 */
  struct block* first = (struct block*)lo;
  first->prev_size = 0;
  set_size(first, hi - HEADER - lo, false);
  push_free(first);
}

/* Marks free block b used with `need` bytes, returning the rest to the free list. */
static void* take(struct block* b, size_t need) {
  unlink_free(b);
  size_t size = size_of(b);
  if (size - need >= MIN_BLOCK) {
    set_size(b, need, true);
    struct block* rest = after(b);
    set_size(rest, size - need, false);
    push_free(rest);
  } else {
    set_size(b, size, true);
  }
  return payload_of(b);
}

/* The block size holding `n` payload bytes, or 0 when n is absurd. */
static size_t block_size(size_t n) {
  if (n > heap_hi - heap_lo) return 0;
  size_t need = ((n + 15) & ~(size_t)15) + HEADER;
  return need < MIN_BLOCK ? MIN_BLOCK : need;
}

void* mote_alloc(size_t n) {
  size_t need = block_size(n);
  if (need == 0) return NULL;
  for (struct block* b = free_list; b; b = b->next)
    if (size_of(b) >= need) return take(b, need);
  return NULL;
}

static struct block* checked_block(void* p, const char* who) {
  struct block* b = block_of(p);
  if ((uintptr_t)p & 15 || (uintptr_t)b < heap_lo || (uintptr_t)p >= heap_hi || !is_used(b) ||
      size_of(b) < MIN_BLOCK)
    mote_abortf(MOTE_ABORT_RUNTIME_ERROR,
                "%s(%p): not a live heap block (double free or heap corruption)", who, p);
  return b;
}

void mote_free(void* p) {
  if (p == NULL) return;
  struct block* b = checked_block(p, "free");
  size_t size = size_of(b);
  struct block* next = after(b);
  if (!is_used(next)) {
    unlink_free(next);
    size += size_of(next);
  }
  struct block* prev = before(b);
  if (prev && !is_used(prev)) {
    unlink_free(prev);
    size += size_of(prev);
    b = prev;
  }
  set_size(b, size, false);
  push_free(b);
}

void* mote_calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void* p = mote_alloc(count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void* mote_realloc(void* p, size_t n) {
  if (p == NULL) return mote_alloc(n);
  if (n == 0) {
    mote_free(p);
    return NULL;
  }
  struct block* b = checked_block(p, "realloc");
  size_t need = block_size(n);
  if (need == 0) return NULL;
  size_t have = size_of(b);
  if (have >= need) return p;
  struct block* next = after(b);
  if (!is_used(next) && have + size_of(next) >= need) { /* grow in place */
    unlink_free(next);
    size_t size = have + size_of(next);
    if (size - need >= MIN_BLOCK) {
      set_size(b, need, true);
      struct block* rest = after(b);
      set_size(rest, size - need, false);
      push_free(rest);
    } else {
      set_size(b, size, true);
    }
    return p;
  }
  void* q = mote_alloc(n);
  if (q) {
    memcpy(q, p, have - HEADER);
    mote_free(p);
  }
  return q;
}

void* mote_aligned_alloc(size_t alignment, size_t n) {
  if (alignment == 0 || (alignment & (alignment - 1))) return NULL;
  if (alignment <= 16) return mote_alloc(n);
  if (alignment > heap_hi - heap_lo) return NULL;
  /* Over-allocate, then give the unaligned front back as a free block of at least MIN_BLOCK. */
  uint8_t* p = mote_alloc(n + alignment + MIN_BLOCK);
  if (p == NULL) return NULL;
  uintptr_t aligned = ((uintptr_t)p + MIN_BLOCK + alignment - 1) & ~(uintptr_t)(alignment - 1);
  struct block* b = block_of(p);
  size_t front = aligned - (uintptr_t)p;
  size_t total = size_of(b);
  struct block* a = block_of((void*)aligned);
  set_size(b, front, true);
  set_size(a, total - front, true);
  mote_free(p); /* the front: merges with a free block before it, if any */
  return (void*)aligned;
}

/* The C names. */
void* malloc(size_t n) { return mote_alloc(n); }
void free(void* p) { mote_free(p); }
void* calloc(size_t count, size_t size) { return mote_calloc(count, size); }
void* realloc(void* p, size_t n) { return mote_realloc(p, n); }
void* aligned_alloc(size_t alignment, size_t n) { return mote_aligned_alloc(alignment, n); }
