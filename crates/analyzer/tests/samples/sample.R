total <- function(prices, tax = 0) {
  sum <- 0
  for (p in prices) {
    if (p > 0 && !is.na(p)) {
      sum <- sum + p
    }
  }
  if (tax > 0) sum * (1 + tax) else sum
}

describe <- function(x) {
  while (length(x) > 3 || is.null(x)) x <- x[-1]
  x
}
