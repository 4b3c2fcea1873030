import { readFile } from "fs";

export function total(items, tax) {
  let sum = 0;
  for (const item of items) {
    if (item.price > 0 && !item.free) {
      sum += item.price;
    }
  }
  return tax ? sum * (1 + tax) : sum;
}

const pick = (list) => list.find((x) => x.ok || x.default) ?? null;

class Cart {
  add(item) {
    switch (item.kind) {
      case "book":
        return 1;
      case "pen":
        return 2;
      default:
        return 0;
    }
  }
}
