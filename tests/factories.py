import factory
from django.contrib.auth import get_user_model

from customers.models import Customer, CustomField
from customers.services import search_values
from customers.validation import NAME_FIELDS
from merchants.models import Merchant, MerchantMembership


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")


SEARCHED = (*NAME_FIELDS, "phone", "reference")


class CustomerFactory(factory.django.DjangoModelFactory):
    """A stored customer, written directly. Use the API or services to test the rules themselves."""

    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    firstname = factory.Faker("first_name")
    lastname = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.firstname}.{o.lastname}@example.com".lower())
    company = None
    address_country = None
    phone = None  # E.164, as the services store it
    reference = None
    # What the services would store for search (customers/search.py).
    search_text = factory.LazyAttribute(lambda o: search_values({f: getattr(o, f) for f in SEARCHED})[0])
    company_key = factory.LazyAttribute(lambda o: search_values({f: getattr(o, f) for f in SEARCHED})[1])
    name_key = factory.LazyAttribute(lambda o: search_values({f: getattr(o, f) for f in SEARCHED})[2])
    email_key = factory.LazyAttribute(lambda o: search_values({f: getattr(o, f) for f in SEARCHED})[3])


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    customer = factory.SubFactory(CustomerFactory)
    merchant = factory.SelfAttribute("customer.merchant")
    name = factory.Sequence(lambda n: f"field_{n}")
    type = "string"
    value = "value"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantMembership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = MerchantMembership.Role.STAFF
