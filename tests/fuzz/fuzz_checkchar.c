/* fuzz_checkchar.c: ISO/IEC 7064 MOD 37-2. Invariants: a computed check character is in the
 * alphabet and makes the string valid; validity means exactly "last character = check of the
 * rest"; any single substitution of a data character in a valid ID is detected. */
#include "fuzz.h"

#include "common/checkchar.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *s = fuzz_cstr(data, size);
    size_t n = strlen(s);
    char c = checkchar_compute(s);
    if (c != '\0') {
        CHECK(strchr(alphabet, c) != NULL);
        char *id = malloc(n + 2);
        CHECK(id != NULL);
        memcpy(id, s, n);
        id[n] = c;
        id[n + 1] = '\0';
        CHECK(checkchar_valid(id));
        /* Every other last character is refused. */
        for (const char *a = alphabet; *a; a++) {
            id[n] = *a;
            CHECK(checkchar_valid(id) == (*a == c));
        }
        id[n] = c;
        /* A single substitution anywhere in the data is detected. */
        for (size_t i = 0; i < n; i++) {
            if (id[i] == '-')
                continue;
            char keep = id[i];
            const char *pos = strchr(alphabet, keep);
            CHECK(pos != NULL);
            id[i] = alphabet[((size_t)(pos - alphabet) + 1 + (size_t)data[0] % 36) % 37];
            CHECK(!checkchar_valid(id));
            id[i] = keep;
        }
        free(id);
    }
    bool valid = checkchar_valid(s);
    if (n >= 2) {
        char *head = fuzz_cstr((const uint8_t *)s, n - 1);
        char want = checkchar_compute(head);
        CHECK(valid == (want != '\0' && want == s[n - 1]));
        free(head);
    } else {
        CHECK(!valid);
    }
    free(s);
    return 0;
}
