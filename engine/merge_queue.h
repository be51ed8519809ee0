/* Priority queue of candidate merges of adjacent symbols, shared by the SentencePiece and BPE
 * tokenizers: the best pair first (highest key), ties to the leftmost pair. */
#ifndef LB_MERGE_QUEUE_H
#define LB_MERGE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lb_merge {
    int left, right;   /* symbol indices */
    double key;        /* SPM: the merged token's score; BPE: minus the merge rank */
    int32_t check[2];  /* what the pair was when queued, to recognise stale entries */
} lb_merge;

typedef struct lb_merge_queue {
    lb_merge *a;
    size_t n, cap;
} lb_merge_queue;

int lb_mq_push(lb_merge_queue *q, lb_merge m);  /* -1 when out of memory */
lb_merge lb_mq_pop(lb_merge_queue *q);           /* requires q->n > 0 */

#endif
