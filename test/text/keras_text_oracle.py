"""Keras text preprocessing as an oracle for src/text/tokenizer.ts.

    python3 keras_text_oracle.py oracle|keras <input.json> <output.json>

`oracle` is an independent, dependency-free implementation of Keras' documented behaviour
(keras_preprocessing.text.Tokenizer: fit_on_texts, texts_to_sequences, sequences_to_texts,
to_json; keras_preprocessing.sequence / keras.utils pad_sequences), written from the Keras
documentation and API reference:

  - text_to_word_sequence: lower-case (str.lower), replace every character of `filters` by
    `split`, split on `split`, drop empty strings. char_level: lower-case, then every
    character is a token (filters are not applied).
  - fit_on_texts: count tokens in order of first appearance, sort by count (descending,
    stable), index from 1; the oov_token, when set, is forced to index 1.
  - texts_to_sequences: a token's index; past num_words (index >= num_words) or unknown, the
    oov_token's index when there is one, else dropped.
  - sequences_to_texts: the reverse, ids past num_words and unknown ids become the oov token
    (or are dropped), joined by " " (also for char_level).
  - pad_sequences(maxlen, padding, truncating, value=0): truncating "pre" keeps the last
    maxlen ids, "post" the first; padding "pre" puts zeros in front, "post" behind; maxlen
    None pads to the longest sequence.
  - to_json: {"class_name": "Tokenizer", "config": {...}} with word_counts, word_docs,
    index_docs, index_word and word_index as JSON strings.

`keras` runs the same requests through Keras' own keras_preprocessing (Debian package
python3-keras-preprocessing, when /usr/bin/python3 has it) to check this oracle.

Input: {"texts": [...], "settings": [{"name", "fit": {Tokenizer kwargs}, "maxlen", "padding",
"truncating"}]}. Output: {"<name>": {"to_json", "word_index", "sequences", "padded",
"texts_back", "tokens_back"}} (tokens_back only from the oracle: the tokens before joining).
"""
import json
import sys

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


class OracleTokenizer:
    def __init__(self, num_words=None, filters=KERAS_FILTERS, lower=True, split=" ", char_level=False, oov_token=None):
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = 0
        self.word_counts = {}  # insertion-ordered (Python 3.7+), like Keras' OrderedDict
        self.word_docs = {}
        self.index_docs = {}
        self.word_index = {}
        self.index_word = {}

    def tokens(self, text):
        if self.lower:
            text = text.lower()
        if self.char_level:
            return list(text)
        mapped = "".join(self.split if c in self.filters else c for c in text)
        return [w for w in mapped.split(self.split) if w]

    def fit_on_texts(self, texts):
        for text in texts:
            self.document_count += 1
            seq = self.tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] = self.word_docs.get(w, 0) + 1
        ranked = sorted(self.word_counts.items(), key=lambda kv: kv[1], reverse=True)  # stable
        vocab = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in ranked]
        self.word_index = {}
        for i, w in enumerate(vocab):
            self.word_index[w] = i + 1  # a repeated word keeps its last index, as dict(zip(...)) does
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def texts_to_sequences(self, texts):
        oov = self.word_index.get(self.oov_token)
        out = []
        for text in texts:
            vect = []
            for w in self.tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if self.num_words and i >= self.num_words:
                        if oov is not None:
                            vect.append(oov)
                    else:
                        vect.append(i)
                elif self.oov_token is not None:
                    vect.append(oov)
            out.append(vect)
        return out

    def sequences_to_tokens(self, sequences):
        oov = self.word_index.get(self.oov_token)
        out = []
        for seq in sequences:
            vect = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None:
                    if self.num_words and num >= self.num_words:
                        if oov is not None:
                            vect.append(self.index_word[oov])
                    else:
                        vect.append(word)
                elif self.oov_token is not None:
                    vect.append(self.index_word[oov])
            out.append(vect)
        return out

    def sequences_to_texts(self, sequences):
        return [" ".join(v) for v in self.sequences_to_tokens(sequences)]

    def to_json(self):
        config = {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }
        return json.dumps({"class_name": "Tokenizer", "config": config})


def oracle_pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    out = []
    for s in sequences:
        row = [value] * maxlen
        if len(s) and maxlen > 0:
            kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
            if padding == "post":
                row[: len(kept)] = kept
            else:
                row[maxlen - len(kept):] = kept
        out.append(row)
    return out


def run(impl, request):
    if impl == "keras":
        from keras_preprocessing.sequence import pad_sequences
        from keras_preprocessing.text import Tokenizer

        def pad(seqs, **kw):
            return pad_sequences(seqs, **kw).tolist()
    else:
        Tokenizer = OracleTokenizer
        pad = oracle_pad_sequences
    texts = request["texts"]
    results = {}
    for s in request["settings"]:
        tok = Tokenizer(**s["fit"])
        tok.fit_on_texts(texts)
        seqs = tok.texts_to_sequences(texts)
        padded = None
        if s.get("maxlen", "absent") != "absent":
            padded = pad(seqs, maxlen=s["maxlen"], padding=s.get("padding", "pre"), truncating=s.get("truncating", "pre"))
        res = {
            "to_json": tok.to_json(),
            "word_index": tok.word_index,
            "sequences": seqs,
            "padded": padded,
            "texts_back": tok.sequences_to_texts(seqs),
        }
        if impl != "keras":
            res["tokens_back"] = tok.sequences_to_tokens(seqs)
        results[s["name"]] = res
    return results


def main():
    impl, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(src, encoding="utf-8") as f:
        request = json.load(f)
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(run(impl, request), f, ensure_ascii=False)


if __name__ == "__main__":
    main()
