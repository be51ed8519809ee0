#!/usr/bin/python3
"""Renders every chat template in shared/testdata/chat-templates/ with Debian's python3-jinja2
for fixed conversations and writes the results to tests/data/chat/NAME.CONV.txt (the
expectations of tests/unit/test_chat.c). The environment matches how Hugging Face
transformers renders chat templates (trim_blocks, lstrip_blocks, raise_exception, tojson);
strftime_now is not provided, so Llama 3.x templates use their built-in date "26 Jul 2024".
A conversation a template rejects (raise_exception) gets no file.
Run from the project root: /usr/bin/python3 scripts/gen_chat_expected.py [SHARED_DIR]"""
import json
import os
import sys

import jinja2

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('LLMBOX_SHARED', '../shared')
SRC = os.path.join(SHARED, 'testdata', 'chat-templates')
DST = os.path.join('tests', 'data', 'chat')

# bos/eos text of each model's tokenizer (tokenizer_config.json of the model).
TOKENS = {
    'Qwen-Qwen2.5-7B-Instruct': ('', '<|im_end|>'),
    'google-gemma-2-2b-it': ('<bos>', '<eos>'),
    'meta-llama-Llama-3.2-3B-Instruct': ('<|begin_of_text|>', '<|eot_id|>'),
    'microsoft-Phi-3.5-mini-instruct': ('<s>', '<|endoftext|>'),
    'mistralai-Mistral-Nemo-Instruct-2407': ('<s>', '</s>'),
}

SYSTEM = {'role': 'system', 'content': 'You are a helpful assistant.'}
USER = {'role': 'user', 'content': ' What is 2+2? '}
ASSISTANT = {'role': 'assistant', 'content': '2+2 equals 4.\n'}
USER2 = {'role': 'user', 'content': 'And 3+3?'}

# name → (messages, add_generation_prompt); test_chat.c uses the same conversations.
CONVS = {
    'sys': ([SYSTEM, USER, ASSISTANT], True),
    'nosys': ([USER, ASSISTANT], True),
    'multi': ([SYSTEM, USER, ASSISTANT, USER2], True),
    'nogen': ([SYSTEM, USER], False),
}


class TemplateError(Exception):
    pass


def raise_exception(msg):
    raise TemplateError(msg)


def main():
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, loader=None,
                             extensions=['jinja2.ext.loopcontrols'])
    env.globals['raise_exception'] = raise_exception
    env.filters['tojson'] = lambda x, indent=None: json.dumps(x, ensure_ascii=False, indent=indent)
    os.makedirs(DST, exist_ok=True)
    for fn in sorted(os.listdir(SRC)):
        if not fn.endswith('.jinja'):
            continue
        name = fn[:-len('.jinja')]
        bos, eos = TOKENS[name]
        tmpl = env.from_string(open(os.path.join(SRC, fn), encoding='utf-8').read())
        for conv, (msgs, gen) in CONVS.items():
            out = os.path.join(DST, '%s.%s.txt' % (name, conv))
            try:
                text = tmpl.render(messages=msgs, add_generation_prompt=gen,
                                   bos_token=bos, eos_token=eos)
            except TemplateError as e:
                print('%s %s: template refuses: %s' % (name, conv, e))
                if os.path.exists(out):
                    os.remove(out)
                continue
            with open(out, 'w', encoding='utf-8', newline='') as f:
                f.write(text)
            print('%s %s: %d bytes' % (name, conv, len(text.encode())))


if __name__ == '__main__':
    main()
