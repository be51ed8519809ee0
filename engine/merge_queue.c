#include "merge_queue.h"

#include <stdbool.h>
#include <stdlib.h>

static bool before(const lb_merge *a, const lb_merge *b)
{
    return a->key > b->key || (a->key == b->key && a->left < b->left);
}

int lb_mq_push(lb_merge_queue *q, lb_merge m)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        lb_merge *a = realloc(q->a, cap * sizeof *a);
        if (!a)
            return -1;
        q->a = a, q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&m, &q->a[p]))
            break;
        q->a[i] = q->a[p];
        i = p;
    }
    q->a[i] = m;
    return 0;
}

lb_merge lb_mq_pop(lb_merge_queue *q)
{
    lb_merge top = q->a[0], last = q->a[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && before(&q->a[c + 1], &q->a[c]))
            c++;
        if (!before(&q->a[c], &last))
            break;
        q->a[i] = q->a[c];
        i = c;
    }
    if (q->n > 0)
        q->a[i] = last;
    return top;
}
