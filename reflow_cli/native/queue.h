/*
 * reflow bounded MPSC ring of slot indices.
 *
 * The ring carries uint32 slot numbers only; the Python wrapper keeps the
 * payloads in a slab indexed by slot.  Any number of threads may push, but
 * only one thread at a time may pop (multi-producer, single-consumer).
 */
#ifndef REFLOW_QUEUE_H
#define REFLOW_QUEUE_H

#include <stdint.h>

/* Largest capacity accepted by rq_new (keeps every slot index below 2^24). */
#define RQ_MAX_CAPACITY (1u << 24)

typedef struct rq rq_t;

/* New empty ring holding at most `capacity` indices; NULL when capacity is
 * out of range (0 or above RQ_MAX_CAPACITY) or memory is exhausted. */
rq_t *rq_new(uint32_t capacity);

/* Release a ring from rq_new (NULL is accepted). */
void rq_free(rq_t *q);

/* Append one index; 1 on success, 0 when the ring is full.  Producer side. */
int rq_try_push(rq_t *q, uint32_t slot);

/* Append slots[0..k) in order for the largest k <= n that fits; returns k.
 * The k indices occupy consecutive positions (no other producer's index is
 * interleaved among them).  Producer side. */
uint32_t rq_push_many(rq_t *q, const uint32_t *slots, uint32_t n);

/* Move up to n of the oldest published indices into out; returns how many.
 * Consumer side. */
uint32_t rq_pop_many(rq_t *q, uint32_t *out, uint32_t n);

/* Remove the oldest published index and return it, or -1 when there is none.
 * Consumer side; saves the caller an output buffer for single pops. */
int32_t rq_pop(rq_t *q);

/* Indices claimed by producers and not yet popped (a snapshot when other
 * threads are active; it counts pushes still being published). */
uint32_t rq_len(rq_t *q);

/* The capacity passed to rq_new. */
uint32_t rq_capacity(const rq_t *q);

#endif /* REFLOW_QUEUE_H */
