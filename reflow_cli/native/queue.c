/*
 * reflow bounded MPSC ring of slot indices (C11 atomics).
 *
 * Positions are 64-bit counters that never wrap in practice: producers claim
 * positions by advancing `tail` with a CAS, the single consumer advances
 * `head`.  Position p lives in cells[p & mask].  A cell's `stamp` holds
 * (p + 1) mod 2^32 once the index for position p is published; any other
 * value means "not yet" to the consumer.
 *
 * Why this is safe:
 *  - A producer only claims positions below head + capacity, with head read
 *    (acquire) before the CAS.  capacity <= ring size, so the previous
 *    occupant of each claimed cell (position p - size) is below head: the
 *    consumer has finished reading it and released head afterwards.  No
 *    producer ever writes a cell the consumer may still read.
 *  - The producer writes `slot`, then stores `stamp` with release; the
 *    consumer loads `stamp` with acquire before reading `slot`.
 *  - A stale stamp differs from p + 1 because the ring size is neither 0 nor
 *    a multiple of 2^32, and the zeroed initial stamp differs from every
 *    p + 1 of the first lap (1 .. size).
 *  - A producer that claimed a position but has not yet published it makes
 *    the consumer stop there (FIFO order of claims is kept); later positions
 *    wait behind it.
 */
#include "queue.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

/* Keep the producers' and the consumer's counters on separate cache lines. */
#define RQ_LINE 64

typedef struct {
    _Atomic uint32_t stamp;
    uint32_t slot;
} rq_cell;

struct rq {
    _Atomic uint64_t tail; /* next position a producer claims */
    char pad0[RQ_LINE - sizeof(_Atomic uint64_t)];
    _Atomic uint64_t head; /* next position the consumer reads */
    char pad1[RQ_LINE - sizeof(_Atomic uint64_t)];
    uint32_t capacity; /* logical bound, <= mask + 1 */
    uint32_t mask;     /* ring size - 1; the size is a power of two */
    rq_cell cells[];
};

rq_t *rq_new(uint32_t capacity)
{
    if (capacity == 0 || capacity > RQ_MAX_CAPACITY)
        return NULL;
    uint32_t size = 1;
    while (size < capacity)
        size <<= 1;
    rq_t *q = malloc(sizeof(rq_t) + (size_t)size * sizeof(rq_cell));
    if (q == NULL)
        return NULL;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    q->capacity = capacity;
    q->mask = size - 1;
    for (uint32_t i = 0; i < size; i++) {
        atomic_init(&q->cells[i].stamp, 0);
        q->cells[i].slot = 0;
    }
    return q;
}

void rq_free(rq_t *q)
{
    free(q);
}

/* Claim up to n consecutive positions; returns how many, first one in *first. */
static uint32_t rq_claim(rq_t *q, uint32_t n, uint64_t *first)
{
    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        if (head > pos) {
            /* Our tail snapshot is older than the consumer: refresh it. */
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
            continue;
        }
        uint64_t used = pos - head;
        /* tail >= pos when head was read, so the ring really was full then. */
        if (used >= q->capacity)
            return 0;
        uint32_t room = q->capacity - (uint32_t)used;
        uint32_t k = n < room ? n : room;
        /* On failure the CAS reloads pos with the current tail. */
        if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + k,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *first = pos;
            return k;
        }
    }
}

uint32_t rq_push_many(rq_t *q, const uint32_t *slots, uint32_t n)
{
    if (n == 0)
        return 0;
    uint64_t pos;
    uint32_t k = rq_claim(q, n, &pos);
    for (uint32_t i = 0; i < k; i++) {
        rq_cell *c = &q->cells[(pos + i) & q->mask];
        c->slot = slots[i];
        atomic_store_explicit(&c->stamp, (uint32_t)(pos + i + 1),
                              memory_order_release);
    }
    return k;
}

int rq_try_push(rq_t *q, uint32_t slot)
{
    return rq_push_many(q, &slot, 1) == 1;
}

uint32_t rq_pop_many(rq_t *q, uint32_t *out, uint32_t n)
{
    /* Only the consumer writes head, so its own view is current. */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t i = 0;
    while (i < n) {
        uint64_t pos = head + i;
        rq_cell *c = &q->cells[pos & q->mask];
        if (atomic_load_explicit(&c->stamp, memory_order_acquire) !=
            (uint32_t)(pos + 1))
            break;
        out[i++] = c->slot;
    }
    if (i != 0) {
        /* Release: our reads of these cells happen before producers reuse them. */
        atomic_store_explicit(&q->head, head + i, memory_order_release);
    }
    return i;
}

int32_t rq_pop(rq_t *q)
{
    uint32_t slot;
    return rq_pop_many(q, &slot, 1) ? (int32_t)slot : -1;
}

uint32_t rq_len(rq_t *q)
{
    /* head first: tail only grows and never trails head, so tail - head >= 0. */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint64_t used = tail - head;
    return used > q->capacity ? q->capacity : (uint32_t)used;
}

uint32_t rq_capacity(const rq_t *q)
{
    return q->capacity;
}
