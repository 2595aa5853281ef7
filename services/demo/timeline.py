"""The demo's story: a short timeline of articles, written for this project, in which tracked
figures change position. The feed server reveals them one by one so the stream is visible.

The same articles make a small replay file: ``python -m services.demo.timeline > demo.jsonl``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class StoryItem:
    slug: str
    source: str
    title: str
    paragraphs: tuple[str, ...]
    #: Seconds after the demo starts at which the item appears in its feed.
    at_s: float

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


STORY: tuple[StoryItem, ...] = (
    StoryItem(
        "putin-offers-geneva-summit",
        "Lakeside Dispatch",
        "Putin offers to meet Trump in Geneva within weeks",
        (
            "MOSCOW — Russian President Vladimir Putin said on Monday he was ready to hold a face-to-face "
            "summit with President Donald Trump in Geneva within the next few weeks.",
            "Putin told a televised meeting of his security council that a meeting with the American leader "
            "soon could settle questions that lower-level envoys had failed to resolve.",
            "Swiss officials said they would host the talks if both sides asked.",
        ),
        0,
    ),
    StoryItem(
        "trump-weighs-tomahawks",
        "Capitol Ledger",
        "Trump says Tomahawk missiles for Ukraine are on the table",
        (
            "WASHINGTON — President Donald Trump said on Tuesday he was considering sending Tomahawk cruise "
            "missiles to Ukraine to raise the pressure on Moscow.",
            '"We have a lot of Tomahawks, and Ukraine could use them," Trump told reporters in the Oval Office. '
            "He said he looked forward to meeting Putin in Geneva soon.",
            "Aides cautioned that no final decision on the missiles had been taken.",
        ),
        8,
    ),
    StoryItem(
        "rutte-urges-aid",
        "Northsea Herald",
        "Rutte urges allies to keep arms flowing to Kyiv",
        (
            "BRUSSELS — NATO Secretary-General Mark Rutte said on Wednesday that allies must keep supplying "
            "weapons and ammunition to Ukraine through the winter.",
            '"Our military aid to Ukraine has to continue, and it has to grow," Rutte told defence ministers.',
        ),
        16,
    ),
    StoryItem(
        "zelenskyy-calls-for-halt",
        "Dnipro Daily",
        "Zelenskyy backs an immediate ceasefire on the current front line",
        (
            "KYIV — Ukrainian President Volodymyr Zelenskyy said on Thursday he supported an immediate "
            "ceasefire along the current front line, with negotiations on everything else to follow.",
            "Zelenskyy said Ukraine was ready to stop firing the moment Russia did the same.",
        ),
        24,
    ),
    StoryItem(
        "trump-rules-out-tomahawks",
        "Capitol Ledger",
        "Trump backs away from sending Tomahawks to Ukraine",
        (
            "WASHINGTON — President Donald Trump said on Friday he would not send Tomahawk missiles to Ukraine, "
            "a week after saying the weapons were on the table.",
            '"We need them for ourselves, and I would much rather Ukraine didn\'t need them," Trump said. '
            "He said he did not support giving Kyiv long-range weapons at this stage.",
            "Ukrainian officials said they were disappointed by the decision.",
        ),
        36,
    ),
    StoryItem(
        "trump-tomahawk-reversal-wire",
        "Prairie Post",
        "No long-range missiles for Kyiv, Trump says",
        (
            "Donald Trump on Friday ruled out giving Ukraine Tomahawk cruise missiles, saying the United States "
            "needed its stockpile for its own defence.",
            "The president said he opposed sending the missiles for now.",
        ),
        44,
    ),
    StoryItem(
        "putin-calls-off-geneva",
        "Lakeside Dispatch",
        "Putin says a Geneva summit with Trump would be premature",
        (
            "MOSCOW — Vladimir Putin said on Saturday that a summit with Donald Trump would be premature and "
            "that there would be no meeting for now.",
            "Putin said he saw no point in meeting the U.S. president until their envoys had done more work.",
        ),
        54,
    ),
    StoryItem(
        "trump-battle-line",
        "Capitol Ledger",
        "Trump now says Ukraine should stop at the battle line",
        (
            "WASHINGTON — President Donald Trump, who once said Ukraine could win back all of its territory, "
            "said on Sunday that both armies should stop at the current battle line.",
            "Trump said Ukraine should freeze the war where the front now stands and negotiate over the land later.",
        ),
        66,
    ),
    StoryItem(
        "zelenskyy-rejects-pause",
        "Dnipro Daily",
        "Zelenskyy rejects a pause in fighting without a full agreement",
        (
            "KYIV — Volodymyr Zelenskyy said on Monday that Ukraine would not agree to a ceasefire before a "
            "complete peace agreement was signed.",
            '"A pause now would only let Russia rearm," Zelenskyy said in his nightly address.',
        ),
        78,
    ),
)

#: Publication times in the replay file start here, one day apart per item.
REPLAY_EPOCH = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def replay_lines(base_url: str = "https://demo.stancewatch.invalid") -> list[dict[str, str]]:
    """The story in the replay input format (``id, source, url, published, title, text``)."""
    return [
        {
            "id": f"demo-{i:02d}",
            "source": item.source,
            "url": f"{base_url}/articles/{item.slug}.html",
            "published": (REPLAY_EPOCH + timedelta(hours=12 * i)).isoformat().replace("+00:00", "Z"),
            "title": item.title,
            "text": item.text,
        }
        for i, item in enumerate(STORY)
    ]


if __name__ == "__main__":
    for line in replay_lines():
        print(json.dumps(line, ensure_ascii=False))
