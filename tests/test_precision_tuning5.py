"""Classes of false findings from a review of Django applications nobody tuned on (round 5,
helper P5), each with a pair: the case the code settles (not reported, or low) and the
case it does not (still reported at its severity)."""

from __future__ import annotations

from helpers import severities
from helpers import review_snippet as review


# SCR508: a Django response declared as a script media type is not rendered as HTML --------

SCRIPT_RESPONSE = """
    import json

    from django.http import HttpResponse


    def lookup(request):
        found = {"echo": request.GET["term"]}
        return HttpResponse(json.dumps(found), content_type="{kind}")
"""


def test_a_response_declared_as_javascript_is_not_xss(capsys, tmp_path) -> None:
    code = SCRIPT_RESPONSE.replace("{kind}", "application/javascript")
    data = review(capsys, tmp_path, "views.py", code)
    assert severities(data, "SCR508") == []


def test_the_same_response_declared_as_html_stays_high(capsys, tmp_path) -> None:
    code = SCRIPT_RESPONSE.replace("{kind}", "text/html")
    data = review(capsys, tmp_path, "views.py", code)
    assert severities(data, "SCR508") == [(9, "high")]


# SCR930: a handler wrapped by a decorator of the project's own code -------------------

WRAPPED_VIEWS = """
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import get_object_or_404, render

    from shop.access import {decorator}
    from shop.models import Basket, Order


    @login_required
    def order_detail(request, order_id):
        order = get_object_or_404(Order, pk=order_id)
        return render(request, "order.html", {{"order": order}})


    @login_required
    def order_cancel(request, order_id):
        order = get_object_or_404(Order, pk=order_id)
        order.cancel()
        return render(request, "cancelled.html", {{"order": order}})


    @{decorator}
    def basket_detail(request, basket_id):
        basket = get_object_or_404(Basket, pk=basket_id)
        return render(request, "basket.html", {{"basket": basket}})
"""


def _shop(tmp_path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")


def test_a_view_wrapped_by_a_decorator_of_the_project_is_low(capsys, tmp_path) -> None:
    _shop(tmp_path)
    data = review(capsys, tmp_path, "shop/views.py", WRAPPED_VIEWS.format(decorator="load_basket_first"))
    assert severities(data, "SCR930") == [(23, "low")]
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "SCR930"]
    assert "wrapped by @load_basket_first, which another module of this project defines" in finding["message"]


def test_a_view_wrapped_by_a_library_decorator_stays_high(capsys, tmp_path) -> None:
    _shop(tmp_path)
    code = WRAPPED_VIEWS.format(decorator="cache_page").replace(
        "from shop.access import cache_page", "from django.views.decorators.cache import cache_page"
    ).replace("@cache_page", "@cache_page(60)")
    data = review(capsys, tmp_path, "shop/views.py", code)
    assert severities(data, "SCR930") == [(23, "high")]


# SCR930: a module function views call after their own check, found as a handler ------

HELPER_VIEWS = """
    from django.contrib.auth.decorators import login_required
    from django.shortcuts import get_object_or_404, render

    from shop.models import Store


    @login_required
    def store_detail(request, store_id):
        store = get_object_or_404(Store, pk=store_id)
        return render(request, "store.html", {"store": store})


    @login_required
    def store_stock(request, store_id):
        return _stock_page(request, store_id, "stock.html")


    @login_required
    def store_orders(request, store_id):
        return _stock_page(request, store_id, "orders.html")


    def _stock_page(request, store_id, template):
        store = get_object_or_404(Store, pk=store_id)
        return render(request, template, {"store": store})
"""


def test_a_helper_called_only_by_checking_views_is_low(capsys, tmp_path) -> None:
    data = review(capsys, tmp_path, "views.py", HELPER_VIEWS)
    assert severities(data, "SCR930") == [(24, "low")]
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "SCR930"]
    assert "calls it only from store_orders, store_stock, which check first" in finding["message"]


def test_a_helper_also_called_by_a_view_without_a_check_stays_high(capsys, tmp_path) -> None:
    code = HELPER_VIEWS.replace(
        '''    @login_required
    def store_orders''',
        '''    def store_orders''',
    )
    data = review(capsys, tmp_path, "views.py", code)
    assert severities(data, "SCR930") == [(23, "high")]


# SCR401/SCR405: settings of a project folder named as an example (example_project/) ---

SITE_SETTINGS = """
    SECRET_KEY = "k3y-9f7a2c41d0b8e6d5a3f2c1b0e9d8c7b6"
    DEBUG = True
    ALLOWED_HOSTS = ["localhost"]
    INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth"]
    ROOT_URLCONF = "urls"
"""


def _site(tmp_path, folder: str) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "__init__.py").write_text("")


def test_settings_of_an_example_project_folder_are_lowered(capsys, tmp_path) -> None:
    _site(tmp_path, "example_project")
    data = review(capsys, tmp_path, "example_project/settings.py", SITE_SETTINGS)
    assert data["files"][0]["kind"] == "example"
    assert severities(data, "SCR401") == [(2, "info")]
    assert severities(data, "SCR405") == [(3, "info")]


def test_the_same_settings_of_a_site_package_stay_medium(capsys, tmp_path) -> None:
    _site(tmp_path, "shopsite")
    data = review(capsys, tmp_path, "shopsite/settings.py", SITE_SETTINGS)
    assert data["files"][0]["kind"] == "production"
    assert severities(data, "SCR401") == [(2, "medium")]
    assert severities(data, "SCR405") == [(3, "medium")]


def test_a_folder_that_only_ends_in_samples_is_not_an_example(capsys, tmp_path) -> None:
    _site(tmp_path, "audio_samples")
    data = review(capsys, tmp_path, "audio_samples/settings.py", SITE_SETTINGS)
    assert data["files"][0]["kind"] == "production"


# SCR902: an exempt view whose decorator (defined in the file) checks a header token ----

TOKEN_HOOK = """
    import hmac
    from functools import wraps

    from django.conf import settings
    from django.http import HttpResponse
    from django.views.decorators.csrf import csrf_exempt


    def needs_feed_token(view):
        @wraps(view)
        def inner(request, *args, **kwargs):
            sent = request.headers.get("Authorization", "")
            if {refusal_test}:
                return HttpResponse("denied", status={status})
            return view(request, *args, **kwargs)
        return inner


    @needs_feed_token
    @csrf_exempt
    def ingest(request):
        return HttpResponse(request.body[:10], content_type="text/plain")
"""


def test_an_exempt_view_whose_decorator_checks_a_header_token_is_low(capsys, tmp_path) -> None:
    code = TOKEN_HOOK.format(
        refusal_test='not hmac.compare_digest(sent, "Token " + settings.FEED_KEY)', status=401
    )
    data = review(capsys, tmp_path, "hooks.py", code)
    assert severities(data, "SCR902") == [(21, "low")]
    (finding,) = [f for f in data["findings"] if f["rule_id"] == "SCR902"]
    assert "checks a token of each request itself: line 14" in finding["message"]


def test_an_exempt_view_whose_decorator_checks_only_the_method_stays_medium(capsys, tmp_path) -> None:
    code = TOKEN_HOOK.format(refusal_test='request.method != "POST"', status=405)
    data = review(capsys, tmp_path, "hooks.py", code)
    assert severities(data, "SCR902") == [(21, "medium")]
