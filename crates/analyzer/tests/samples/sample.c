#include <stdio.h>

int max(int a, int b) {
    return a > b ? a : b;
}

void loop(void) {
    for (int i = 0; i < 10; i++) {
        while (i % 2 == 0 || i == 3) {
            i++;
        }
    }
}
